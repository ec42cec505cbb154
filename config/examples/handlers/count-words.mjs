// A command handler: task JSON on stdin, context in $SWARM_CONTEXT_FILE, finding as JSON on stdout.
import { readFileSync } from 'node:fs';

const task = JSON.parse(readFileSync(0, 'utf8'));
const text = readFileSync(process.env.SWARM_CONTEXT_FILE, 'utf8').toLowerCase();
const word = String(task.data.word).toLowerCase();
const count = text.split(/[^a-z0-9_]+/).filter((w) => w === word).length;
process.stdout.write(JSON.stringify({ summary: `"${word}" appears ${count} times`, data: { word, count } }));
