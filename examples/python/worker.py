#!/usr/bin/env python3
"""A one-shot swarm worker in Python, written from docs/PROTOCOL.md alone, with redis-py only.

It claims one task of a swarm's task type, reads the task's context, works (here: it describes
what it was given), renews its lease while it works, and reports a finding that swarm's own
readers accept. Then it leaves.

    swarm protocol scripts --dir ./swarm-scripts
    python3 examples/python/worker.py --redis redis://localhost:6379 --swarm S --type T \
        --scripts ./swarm-scripts

Exit codes, as the swarm CLI's: 0 reported, 1 failed (the task was retried or dead-lettered, or
Redis failed), 2 usage, 3 no task came within --wait, 4 the lease was lost (another worker took
the task over; nothing was reported).

Optional: with the `xxhash` package installed, the context's hash is checked as well as its
chunks and size.
"""

import argparse
import json
import os
import random
import re
import socket
import sys
import threading
import time
import uuid

try:
    import redis
except ImportError:
    sys.stderr.write("worker.py needs redis-py: apt-get install python3-redis (or pip install redis)\n")
    sys.exit(1)

try:
    import xxhash
except ImportError:
    xxhash = None

EXIT_REPORTED, EXIT_FAILED, EXIT_USAGE, EXIT_NO_TASK, EXIT_LEASE_LOST = 0, 1, 2, 3, 4

GROUP = "workers"
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
MAX_DATA_DEPTH = 256
MAX_ERROR_MESSAGE = 2000
# The scripts this worker calls (PROTOCOL.md, Scripts), by file name.
SCRIPTS = ("promote", "reclaim", "renew", "complete", "retry", "dead-letter", "remove-consumer",
           "prune-consumers")
# A one-shot worker forgets killed workers idle this long, as swarm's claims do.
PRUNE_IDLE_MS = 90000
# Swarm's backoff defaults (PROTOCOL.md, Settling a delivery).
BACKOFF_BASE_MS, BACKOFF_MAX_MS = 1000, 60000


def now_ms():
    return int(time.time() * 1000)


def note(text):
    sys.stderr.write(f"worker.py: {text}\n")
    sys.stderr.flush()


class Malformed(Exception):
    """A task entry that does not meet PROTOCOL.md's Task entries table."""


class ContextError(Exception):
    """A context that is missing or damaged: never use part of one."""


class LeaseLost(Exception):
    """Another worker reclaimed the task: stop, report nothing."""


class Keys:
    """PROTOCOL.md, Keys: every key of swarm S carries the hash tag {S}."""

    def __init__(self, swarm, task_type):
        tag = f"swarm:{{{swarm}}}"
        self.tasks = f"{tag}:tasks:{task_type}"
        self.leases = f"{tag}:leases:{task_type}"
        self.delayed = f"{tag}:delayed:{task_type}"
        self.findings = f"{tag}:findings"
        self.dead = f"{tag}:dead"
        self.retention = f"{tag}:retention"
        self.channel = f"{tag}:findings"
        self.context = lambda ref: f"{tag}:ctx:{ref}"


def nested_deeper_than(value, limit):
    level = [value]
    depth = 0
    while level:
        nxt = []
        for v in level:
            if isinstance(v, (list, dict)):
                if depth >= limit:
                    return True
                nxt.extend(v.values() if isinstance(v, dict) else v)
        level = nxt
        depth += 1
    return False


def is_int(value, minimum):
    return isinstance(value, int) and not isinstance(value, bool) and value >= minimum


def decode_task(fields, deliveries):
    """The task JSON object and A, the attempt this delivery is on (PROTOCOL.md, Task entries)."""
    if "task" not in fields:
        raise Malformed('missing field "task"')
    try:
        task = json.loads(fields["task"])
    except ValueError:
        raise Malformed('field "task" is not valid JSON') from None
    except RecursionError:
        raise Malformed(f'"data" is nested deeper than {MAX_DATA_DEPTH} levels') from None
    if not isinstance(task, dict):
        raise Malformed('field "task" is not a JSON object')
    if not isinstance(task.get("id"), str) or not 1 <= len(task["id"]) <= 200:
        raise Malformed('"id" must be a string of 1-200 characters')
    if not is_int(task.get("attempt"), 1):
        raise Malformed('"attempt" must be an integer >= 1')
    if not is_int(task.get("created"), 0):
        raise Malformed('"created" must be an integer >= 0')
    for key in ("description", "parent", "context", "idem"):
        if task.get(key) is not None and not isinstance(task[key], str):
            raise Malformed(f'"{key}" must be a string')
    if task.get("errors") is not None and not isinstance(task["errors"], list):
        raise Malformed('"errors" must be an array')
    if task.get("deadline") is not None and not is_int(task["deadline"], 0):
        raise Malformed('"deadline" must be an integer >= 0')
    if nested_deeper_than(task.get("data"), MAX_DATA_DEPTH):
        raise Malformed(f'"data" is nested deeper than {MAX_DATA_DEPTH} levels')
    return task, task["attempt"] + deliveries - 1


def to_json(value):
    # Compact, and a finding's JSON must begin with "{": complete.lua splices the id in after it.
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


class Worker:
    def __init__(self, args):
        self.args = args
        self.keys = Keys(args.swarm, args.type)
        self.me = args.consumer or default_consumer()
        self.lease_ms = args.lease_ms
        self.redis = redis.Redis.from_url(args.redis, decode_responses=True)
        # Context chunks are bytes, not text.
        self.raw = redis.Redis.from_url(args.redis)
        self.scripts = load_scripts(self.redis, args.scripts)
        self.trim = self.read_retention()
        # Where the next reclaim.lua scan resumes: expired entries behind live ones are reached.
        self.reclaim_cursor = "0-0"

    # -- PROTOCOL.md, Retention: the swarm's bounds, as trim kind and value per stream.
    def read_retention(self):
        recorded = self.redis.hgetall(self.keys.retention)
        trim = {}
        for stream in ("findings", "dead"):
            kind, _, value = recorded.get(stream, "").partition(" ")
            trim[stream] = [kind, value] if kind in ("MAXLEN", "MAXAGE") and value else ["", ""]
        return trim

    def call(self, name, keys, args):
        return self.scripts[name](keys=keys, args=args)

    # -- PROTOCOL.md, Claiming: join, then the one-shot duties.
    def join(self):
        try:
            self.redis.xgroup_create(self.keys.tasks, GROUP, id="0", mkstream=True)
        except redis.ResponseError as error:
            if "BUSYGROUP" not in str(error):
                raise
        self.redis.hset(self.keys.leases, self.me, self.lease_ms)
        self.call("prune-consumers", [self.keys.tasks, self.keys.leases], [GROUP, PRUNE_IDLE_MS, self.me])

    def leave(self):
        self.call("remove-consumer", [self.keys.tasks, self.keys.leases], [GROUP, self.me])

    def next_entry(self, until):
        """(entry id, fields, deliveries) of one task, or None when none came before `until`."""
        while True:
            self.call("promote", [self.keys.delayed, self.keys.tasks], [100])
            self.reclaim_cursor, claimed = self.call(
                "reclaim",
                [self.keys.tasks, self.keys.dead, self.keys.leases],
                [GROUP, self.me, self.lease_ms, 1, self.args.max_attempts, self.args.type,
                 *self.trim["dead"], self.reclaim_cursor],
            )
            if claimed:
                entry_id, flat, deliveries = claimed[0]
                return entry_id, dict(zip(flat[::2], flat[1::2])), int(deliveries)
            block = max(1, min(1000, until - now_ms()))
            reply = self.redis.xreadgroup(GROUP, self.me, {self.keys.tasks: ">"}, count=1, block=block)
            for _stream, entries in reply or []:
                for entry_id, fields in entries:
                    if fields:
                        return entry_id, fields, 1
            if now_ms() >= until:
                return None

    # -- PROTOCOL.md, Context store.
    def read_context(self, ref):
        parts = self.raw.hgetall(self.keys.context(ref))
        if not parts:
            raise ContextError(f"context {ref}: no such context in this swarm")
        try:
            size = int(parts[b"size"])
            chunks = int(parts[b"chunks"])
        except (KeyError, ValueError):
            raise ContextError(f"context {ref}: its header is missing or damaged") from None
        pieces = []
        for i in range(chunks):
            piece = parts.get(f"c{i}".encode())
            if piece is None:
                raise ContextError(f"context {ref}: chunk {i} of {chunks} is missing")
            pieces.append(piece)
        content = b"".join(pieces)
        if len(content) != size:
            raise ContextError(f"context {ref}: {len(content)} bytes where {size} were stored")
        if xxhash is not None and xxhash.xxh3_128_hexdigest(content) != ref:
            raise ContextError(f"context {ref}: its content does not match its hash")
        return content

    # -- PROTOCOL.md, Settling a delivery.
    def finding(self, task, attempt, summary, data=None, tags=()):
        finding = {
            "swarm": self.args.swarm,
            "taskId": task["id"],
            "type": self.args.type,
            "summary": summary,
            "data": data,
            "workerId": self.me,
            "attempt": attempt,
            "tags": list(dict.fromkeys(t for t in tags if isinstance(t, str) and 0 < len(t) <= 100)),
            "createdAt": now_ms(),
        }
        if task.get("context") is not None:
            finding["contextVersion"] = task["context"]
        if task.get("parent") is not None:
            finding["parent"] = task["parent"]
        return finding

    def complete(self, entry_id, finding):
        """The finding id; None when the delivery was settled already, or another worker holds it now."""
        [finding_id] = self.call(
            "complete",
            [self.keys.tasks, self.keys.findings],
            # With this worker as the owner, a delivery it no longer holds is refused in the same step.
            [GROUP, self.keys.channel, *self.trim["findings"], self.me, entry_id, to_json(finding)],
        )
        return None if finding_id in ("", "lost") else finding_id

    def dead_letter(self, entry_id, reason, errors, entry):
        dead = ["type", self.args.type, "reason", reason[:MAX_ERROR_MESSAGE], "dead_at", str(now_ms()),
                "errors", to_json(errors), "entry", to_json(entry)]
        return self.call("dead-letter", [self.keys.tasks, self.keys.dead],
                         [GROUP, entry_id, self.me, *self.trim["dead"], *dead]) == 1

    def fail(self, entry_id, task, attempt, message):
        """Retries with backoff, or dead-letters at maxAttempts; False when the lease was lost."""
        errors = list(task.get("errors") or [])
        errors.append({"attempt": attempt, "message": message[:MAX_ERROR_MESSAGE], "at": now_ms()})
        if attempt >= self.args.max_attempts:
            reason = f"failed {attempt} of {self.args.max_attempts} attempts: {message}"
            entry = {"task": to_json({**task, "attempt": attempt})}
            return self.dead_letter(entry_id, reason, errors, entry)
        d = min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** (attempt - 1))
        delay = round(d / 2 + random.random() * d / 2)
        nxt = ["task", to_json({**task, "attempt": attempt + 1, "errors": errors})]
        return self.call("retry", [self.keys.tasks, self.keys.delayed],
                         [GROUP, entry_id, self.me, delay, to_json(nxt)]) == 1

    def renew(self, entry_id):
        """True while this worker still owns the delivery."""
        lost = self.call("renew", [self.keys.tasks, self.keys.leases],
                         [GROUP, self.me, self.lease_ms, entry_id])
        return entry_id not in lost

    # -- The work: here, describe what the task brought. A real worker does its job instead.
    def work(self, task, context, lease):
        end = time.monotonic() + self.args.work_ms / 1000
        while time.monotonic() < end:
            lease.check()
            time.sleep(min(0.05, max(0, end - time.monotonic())))
        lease.check()
        description = task.get("description") or ""
        read = "no context" if context is None else f"read {len(context)} bytes of context"
        summary = f"{description or 'a task'}: {read}"
        data = {
            "language": "python",
            "input": task.get("data"),
            "contextBytes": None if context is None else len(context),
            "contextHashChecked": context is not None and xxhash is not None,
            "earlierErrors": [e.get("message") for e in task.get("errors") or [] if isinstance(e, dict)],
        }
        return summary, data, ["python"]

    def run(self):
        self.join()
        try:
            return self.claim_and_report()
        finally:
            self.leave()

    def claim_and_report(self):
        until = now_ms() + int(self.args.wait * 1000)
        while True:
            got = self.next_entry(until)
            if got is None:
                note(f"no {self.args.type} task in swarm {self.args.swarm} within {self.args.wait} s")
                return EXIT_NO_TASK, {"outcome": "no-task"}
            entry_id, fields, deliveries = got
            try:
                task, attempt = decode_task(fields, deliveries)
            except Malformed as error:
                reason = f"malformed entry: {error}"
                note(f"dead-lettering entry {entry_id}: {reason}")
                self.dead_letter(entry_id, reason, [], fields)
                continue
            note(f"claimed {entry_id} (task {task['id']}, attempt {attempt}) as {self.me}")
            deadline = task.get("deadline")
            if deadline is not None and now_ms() > deadline:
                tags = ["expired"] + (["assist", "answer"] if self.args.type == "swarm.assist" else [])
                expired = self.finding(task, attempt, "expired: not started before its deadline", None, tags)
                self.complete(entry_id, expired)
                note(f"task {task['id']} was past its deadline: recorded as expired, looking again")
                continue
            return self.run_task(entry_id, task, attempt)

    def run_task(self, entry_id, task, attempt):
        with LeaseKeeper(self, entry_id) as lease:
            try:
                context = self.read_context(task["context"]) if task.get("context") else None
                summary, data, tags = self.work(task, context, lease)
            except LeaseLost:
                note(f"lease lost on {entry_id}: another worker took task {task['id']} over; not reporting")
                return EXIT_LEASE_LOST, {"outcome": "lost", "taskId": task["id"], "entryId": entry_id}
            except ContextError as error:
                if not self.fail(entry_id, task, attempt, str(error)):
                    return EXIT_LEASE_LOST, {"outcome": "lost", "taskId": task["id"], "entryId": entry_id}
                return EXIT_FAILED, {"outcome": "failed", "taskId": task["id"], "error": str(error)}
        finding_id = self.complete(entry_id, self.finding(task, attempt, summary, data, tags))
        if finding_id is None:
            note(f"task {task['id']} was settled by another worker first")
            return EXIT_LEASE_LOST, {"outcome": "lost", "taskId": task["id"], "entryId": entry_id}
        return EXIT_REPORTED, {"outcome": "completed", "taskId": task["id"], "findingId": finding_id,
                               "attempt": attempt, "summary": summary}


class LeaseKeeper:
    """Renews one delivery's lease every lease/3 on a thread of its own (PROTOCOL.md, Leases)."""

    def __init__(self, worker, entry_id):
        self.worker = worker
        self.entry_id = entry_id
        self.stopped = threading.Event()
        self.lost = threading.Event()
        self.thread = threading.Thread(target=self.keep, daemon=True)

    def keep(self):
        every = max(0.005, self.worker.lease_ms / 3000)
        while not self.stopped.wait(every):
            try:
                if not self.worker.renew(self.entry_id):
                    self.lost.set()
                    return
            except redis.RedisError as error:
                note(f"lease renewal failed: {error}")

    def check(self):
        if self.lost.is_set():
            raise LeaseLost()

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *_):
        self.stopped.set()
        self.thread.join()


def default_consumer():
    host = re.sub(r"[^A-Za-z0-9_.-]", "-", socket.gethostname())[:32] or "host"
    return f"py-{host}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


def load_scripts(client, directory):
    """The expanded scripts `swarm protocol scripts --dir` wrote; redis-py calls them by SHA1."""
    scripts = {}
    for name in SCRIPTS:
        path = os.path.join(directory, f"{name}.lua")
        try:
            with open(path, encoding="utf-8") as file:
                scripts[name] = client.register_script(file.read())
        except FileNotFoundError:
            raise SystemExit(usage_error(
                f"no {path}: write the scripts with `swarm protocol scripts --dir {directory}`")) from None
    return scripts


def usage_error(message):
    sys.stderr.write(f"worker.py: {message}\n")
    return EXIT_USAGE


def parse_args(argv):
    parser = argparse.ArgumentParser(description="Claim one swarm task, report its finding, exit.")
    parser.add_argument("--redis", default=os.environ.get("SWARM_REDIS_URL"),
                        help="Redis URL (default $SWARM_REDIS_URL)")
    parser.add_argument("--swarm", required=True)
    parser.add_argument("--type", required=True, help="task type")
    parser.add_argument("--scripts", default=os.environ.get("SWARM_SCRIPTS_DIR", "swarm-scripts"),
                        help="directory written by `swarm protocol scripts --dir` (default ./swarm-scripts)")
    parser.add_argument("--lease-ms", type=int, default=30000, help="lease in ms (default 30000)")
    parser.add_argument("--wait", type=float, default=10, help="seconds to wait for a task (default 10)")
    parser.add_argument("--max-attempts", type=int, default=3,
                        help="attempts before a task is dead-lettered (default 3)")
    parser.add_argument("--consumer", help="consumer name (default py-<host>-<pid>-<random>)")
    parser.add_argument("--work-ms", type=int, default=0, help="pretend the work takes this long")
    parser.add_argument("--json", action="store_true", help="print the result as one JSON object")
    args = parser.parse_args(argv)
    if not args.redis:
        parser.exit(EXIT_USAGE, "worker.py: pass --redis <url> or set SWARM_REDIS_URL\n")
    for kind, value in (("swarm", args.swarm), ("task type", args.type), ("consumer", args.consumer)):
        if value is not None and not NAME.match(value):
            parser.exit(EXIT_USAGE, f"worker.py: invalid {kind} name {value!r}\n")
    if args.lease_ms < 10 or args.wait < 0 or args.max_attempts < 1 or args.work_ms < 0:
        parser.exit(EXIT_USAGE, "worker.py: needs --lease-ms >= 10, --wait >= 0, "
                                "--max-attempts >= 1, --work-ms >= 0\n")
    return args


def main(argv):
    args = parse_args(argv)
    try:
        code, result = Worker(args).run()
    except redis.RedisError as error:
        sys.stderr.write(f"worker.py: {error}\n")
        return EXIT_FAILED
    record = {**result, "swarm": args.swarm, "type": args.type}
    if args.json:
        print(json.dumps(record))
    elif result["outcome"] == "completed":
        print(f"{result['findingId']}  {result['summary']}")
    elif result["outcome"] != "no-task":
        print(f"task {result['outcome']}: {result.get('error', result.get('taskId', ''))}")
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
