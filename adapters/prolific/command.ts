import { parseArgs } from 'node:util';
import type { CommandContext } from '../../src/command.js';
import { PROLIFIC_USAGE as USAGE } from './usage.js';
import { runBackfill } from './backfill-command.js';
import { createProlificClient, type ProlificClientOptions } from './client.js';
import { PROLIFIC_EVENT_TYPES } from './sample.js';

/** `studyhook prolific <subscribe|list|unsubscribe|backfill> ...`; returns the exit code. */
export async function runProlificCommand(args: string[], ctx: CommandContext): Promise<number> {
  const [sub, ...rest] = args;
  const { values } = parseArgs({
    args: rest,
    options: {
      config: { type: 'string', short: 'c' },
      token: { type: 'string' },
      'base-url': { type: 'string' },
      workspace: { type: 'string', short: 'w' },
      url: { type: 'string' },
      namespace: { type: 'string', short: 'n', default: 'default' },
      event: { type: 'string', short: 'e', multiple: true },
      secret: { type: 'string' },
      id: { type: 'string', multiple: true },
      since: { type: 'string' },
      'study-id': { type: 'string', multiple: true },
      'dry-run': { type: 'boolean' },
      'archive-dir': { type: 'string' },
    },
  });
  if (
    !sub ||
    !['subscribe', 'list', 'unsubscribe', 'backfill'].includes(sub) ||
    !values.workspace
  ) {
    console.error(USAGE);
    return 2;
  }
  // why: the config may reference a webhook secret that does not exist yet; read it only when asked or needed.
  const fromConfig = (
    values.config !== undefined || !values.token
      ? (ctx.loadConfig({ path: values.config }).platforms['prolific']?.client ?? {})
      : {}
  ) as ProlificClientOptions;
  const token = values.token ?? fromConfig.token;
  if (!token) {
    console.error(
      'studyhook prolific: no API token (--token, or platforms.prolific.client.token in the config, e.g. ${PROLIFIC_TOKEN})',
    );
    return 2;
  }
  const client = createProlificClient({
    ...fromConfig,
    token,
    ...(values['base-url'] !== undefined && { baseUrl: values['base-url'] }),
  });
  const workspace = values.workspace;
  const target = values.url && `${values.url.replace(/\/+$/, '')}/prolific/${values.namespace}`;
  const events: readonly string[] = values.event ?? PROLIFIC_EVENT_TYPES;

  if (sub === 'backfill') {
    const since = values.since === undefined ? undefined : new Date(values.since);
    if (since && Number.isNaN(since.getTime())) {
      console.error(`studyhook prolific: --since '${values.since}' is not a date (ISO 8601)`);
      return 2;
    }
    return runBackfill(
      ctx.loadConfig({ path: values.config }),
      ctx.adapters,
      client,
      {
        namespace: values.namespace,
        workspace,
        dryRun: values['dry-run'] === true,
        studyIds: values['study-id'] ?? [],
        ...(since && { since }),
        ...(values['archive-dir'] !== undefined && { archiveDir: values['archive-dir'] }),
      },
      (l) => console.log(l),
    );
  }
  if (sub === 'list') {
    for (const s of await client.listSubscriptions(workspace))
      console.log(
        `${s.id}  ${s.is_enabled ? 'enabled ' : 'disabled'}  ${s.event_type.padEnd(28)} ${s.target_url}`,
      );
    return 0;
  }
  if (sub === 'unsubscribe') {
    const all = await client.listSubscriptions(workspace);
    const chosen = all.filter(
      (s) =>
        values.id?.includes(s.id) ||
        (target !== undefined &&
          s.target_url === target &&
          (!values.event || events.includes(s.event_type))),
    );
    if (!values.id && !target) {
      console.error(USAGE);
      return 2;
    }
    for (const s of chosen) {
      await client.deleteSubscription(s.id);
      console.log(`deleted ${s.id} (${s.event_type} -> ${s.target_url})`);
    }
    if (chosen.length === 0) console.error('no matching subscription');
    return 0;
  }
  if (!target) {
    console.error(USAGE);
    return 2;
  }
  // why: Prolific only delivers to public https:// target URLs (docs: core-concepts/monitoring-study-progress).
  if (!target.startsWith('https://')) {
    console.error(
      `studyhook prolific: --url must be the gateway's public https:// URL (got ${values.url})`,
    );
    return 2;
  }
  // why: a subscription cannot be created before the workspace secret exists, and creating one replaces
  // the old one (docs: api-reference/webhooks/create-secret); so reuse an existing secret, never rotate silently.
  let secret = values.secret;
  if (!secret) {
    const existing = (await client.listSecrets(workspace))[0];
    secret = existing?.value ?? (await client.createSecret(workspace)).value;
    console.error(existing ? 'using the existing workspace secret' : 'created a workspace secret');
  }
  const already = await client.listSubscriptions(workspace);
  for (const eventType of events) {
    const same = already.find(
      (s) => s.event_type === eventType && s.target_url === target && s.is_enabled,
    );
    if (same) {
      console.error(`already subscribed: ${eventType} (${same.id})`);
      continue;
    }
    const created = await client.createSubscription({
      workspace_id: workspace,
      event_type: eventType,
      target_url: target,
    });
    await client.confirmSubscription(created.id, created.secret);
    console.error(`subscribed and confirmed: ${eventType} (${created.id})`);
  }
  console.log(`# Put the secret in the environment:  PROLIFIC_WEBHOOK_SECRET='${secret}'
platforms:
  prolific:
    namespaces:
      ${values.namespace}:
        secrets: ["\${PROLIFIC_WEBHOOK_SECRET}"]
    client:
      token: \${PROLIFIC_TOKEN}`);
  return 0;
}
