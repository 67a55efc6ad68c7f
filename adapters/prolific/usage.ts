/** What `studyhook prolific --help` prints (and a wrong call, on stderr). */
export const PROLIFIC_USAGE = `Usage: studyhook prolific <subscribe|list|unsubscribe|backfill> --workspace ID [options]

  subscribe    --url https://hooks.example.org [--namespace NS] [--event TYPE ...] [--secret VALUE]
               Creates the workspace secret if there is none (or uses --secret), subscribes
               <url>/prolific/<namespace> to each event type (default: the four documented ones),
               confirms each subscription and prints the config to paste.
  list         Lists the workspace's subscriptions.
  unsubscribe  [--id ID ...] [--url URL [--namespace NS] [--event TYPE ...]]
               Deletes the subscriptions given by id, or those pointing at the gateway URL.
  backfill     --namespace NS [--since DATE] [--study-id ID ...] [--dry-run] [--archive-dir DIR]
               Reads the delivery log of each subscription delivering to NS and the submissions
               of each study, and publishes every event the archive lacks (marked backfilled).

Common: --token TOKEN (else platforms.prolific.client.token of the config),
        --base-url URL (else platforms.prolific.client.baseUrl, else https://api.prolific.com).`;
