/**
 * The model behind a `provider:model` id, from the topology's `providers:` block (issue #10).
 * Known vendors need no entry: their key comes from the vendor's usual environment variable. An
 * entry sets a key (`${ENV}`), a base URL (a gateway, a fake vendor in tests), headers, limits, or
 * names an OpenAI-compatible server of your own (vLLM, Ollama, OpenRouter).
 */
import { createAnthropic } from '@ai-sdk/anthropic';
import { createDeepSeek } from '@ai-sdk/deepseek';
import { createGoogleGenerativeAI } from '@ai-sdk/google';
import { createOpenAI } from '@ai-sdk/openai';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { type ProviderSpec, SwarmError } from '@swarm/core';
import type { LanguageModel } from 'ai';
import { splitModelId } from './prices';

export type ProviderKind = NonNullable<ProviderSpec['kind']>;

/** The topology's `providers:`: provider name to its settings. */
export type ProviderSpecs = Readonly<Record<string, ProviderSpec>>;

/** Vendors a topology may use by name alone, and where their key comes from. */
export const KNOWN_PROVIDERS: Readonly<Record<string, { kind: ProviderKind; keyVariable: string }>> = {
  anthropic: { kind: 'anthropic', keyVariable: 'ANTHROPIC_API_KEY' },
  openai: { kind: 'openai', keyVariable: 'OPENAI_API_KEY' },
  google: { kind: 'google', keyVariable: 'GOOGLE_GENERATIVE_AI_API_KEY' },
  deepseek: { kind: 'deepseek', keyVariable: 'DEEPSEEK_API_KEY' },
};

/** A provider that cannot be used as configured. The message never holds a key. */
export class ProviderConfigError extends SwarmError<'SWARM_PROVIDER_INVALID'> {
  constructor(message: string) {
    super('SWARM_PROVIDER_INVALID', message);
  }
}

/** What a pool knows of one provider: its API, its rate limits, and the models made from it. */
export interface ResolvedProvider {
  name: string;
  kind: ProviderKind;
  limits: ProviderSpec['limits'];
  model(modelId: string): LanguageModel;
}

export interface ModelRegistry {
  /** The provider of a `provider:model` id. */
  provider(modelId: string): ResolvedProvider;
  model(modelId: string): LanguageModel;
  /** A provider's rate limits (`providers.<name>.limits`), if it has any. */
  limits(provider: string): ProviderSpec['limits'];
  /** Every key in use: scrubbed from whatever a vendor's error says before it is logged or stored. */
  readonly secrets: readonly string[];
}

function kindOf(name: string, spec: ProviderSpec | undefined): ProviderKind {
  const kind = spec?.kind ?? KNOWN_PROVIDERS[name]?.kind;
  if (kind) return kind;
  throw new ProviderConfigError(
    spec
      ? `provider ${name} needs a kind (anthropic, openai, google, deepseek or openai-compatible): add providers.${name}.kind`
      : `unknown provider ${name}: use anthropic, openai, google or deepseek, or add providers.${name} with kind: openai-compatible and a baseURL`,
  );
}

/**
 * The provider's key: its entry's `apiKey` (interpolated from the environment at load), else its
 * vendor's variable. An OpenAI-compatible server may need none (Ollama).
 */
function keyOf(name: string, kind: ProviderKind, spec: ProviderSpec | undefined, env: NodeJS.ProcessEnv) {
  if (spec?.apiKey) return spec.apiKey;
  const variable = KNOWN_PROVIDERS[name]?.keyVariable ?? KNOWN_PROVIDERS[kind]?.keyVariable;
  const fromEnv = variable ? env[variable] : undefined;
  if (fromEnv) return fromEnv;
  if (kind === 'openai-compatible') return undefined;
  throw new ProviderConfigError(
    `provider ${name} has no API key: set ${variable ?? `${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_API_KEY`} in the environment, or providers.${name}.apiKey to \${A_VARIABLE} that holds it`,
  );
}

function createProvider(
  name: string,
  kind: ProviderKind,
  spec: ProviderSpec | undefined,
  apiKey: string | undefined,
): (model: string) => LanguageModel {
  const common = {
    ...(apiKey !== undefined ? { apiKey } : {}),
    ...(spec?.baseURL ? { baseURL: spec.baseURL } : {}),
    ...(spec?.headers ? { headers: spec.headers } : {}),
  };
  switch (kind) {
    case 'anthropic':
      return createAnthropic(common);
    case 'openai':
      return createOpenAI(common);
    case 'google':
      return createGoogleGenerativeAI(common);
    case 'deepseek':
      return createDeepSeek(common);
    case 'openai-compatible': {
      if (!spec?.baseURL)
        throw new ProviderConfigError(
          `provider ${name} is openai-compatible: give providers.${name}.baseURL`,
        );
      // Without includeUsage such servers stream no token counts, and every call would be estimated.
      return createOpenAICompatible({ ...common, name, baseURL: spec.baseURL, includeUsage: true });
    }
  }
}

/**
 * The providers a pool's models need, each checked now: a missing key or an unknown provider
 * fails the pool's start, naming what to set.
 */
export function modelRegistry(
  providers: ProviderSpecs,
  modelIds: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): ModelRegistry {
  const resolved = new Map<string, ResolvedProvider>();
  const secrets = new Set<string>();
  for (const modelId of modelIds) {
    const { provider: name } = splitModelId(modelId);
    if (resolved.has(name)) continue;
    const spec = Object.hasOwn(providers, name) ? providers[name] : undefined;
    const kind = kindOf(name, spec);
    const apiKey = keyOf(name, kind, spec, env);
    if (apiKey) secrets.add(apiKey);
    // A gateway's credentials often ride in headers (Authorization, cf-aig-authorization, …).
    for (const value of Object.values(spec?.headers ?? {})) {
      secrets.add(value);
      const bearer = /^Bearer\s+(.+)$/i.exec(value)?.[1];
      if (bearer) secrets.add(bearer);
    }
    const create = createProvider(name, kind, spec, apiKey);
    const models = new Map<string, LanguageModel>();
    resolved.set(name, {
      name,
      kind,
      limits: spec?.limits,
      model(id) {
        const made = models.get(id) ?? create(splitModelId(id).model);
        models.set(id, made);
        return made;
      },
    });
  }
  const provider = (modelId: string) => {
    const found = resolved.get(splitModelId(modelId).provider);
    if (!found) throw new ProviderConfigError(`model ${modelId} is not one of this pool's`);
    return found;
  };
  return {
    provider,
    model: (modelId) => provider(modelId).model(modelId),
    limits: (name) => resolved.get(name)?.limits,
    secrets: [...secrets],
  };
}

/** `text` with every secret replaced: a vendor's error may quote the request's headers. */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (secret.length >= 4) out = out.split(secret).join('<redacted>');
  return out;
}
