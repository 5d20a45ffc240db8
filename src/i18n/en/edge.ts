import type { zhEdge } from '../zh-CN/edge';

/** Text (English) for the edge ingress: jobs that run what the Worker queued, its health. */
export const enEdge: { readonly [K in keyof typeof zhEdge]: string } = {
  'job.kind.chat_message': 'message from the edge',
  'job.kind.webhook_command': 'webhook command from the edge',
  'edge.queuedDone': 'Handled a message that arrived at the edge (outcome: {outcome}).',
  'edge.queuedDuplicate': 'This message was already handled by another instance; it did not run twice.',
  'edge.commandDone': 'Ran a webhook command that arrived at the edge (HTTP {status}).',
  'edge.dbDown': 'The edge cannot reach the database (Hyperdrive binding HYPERDRIVE): check the Hyperdrive config in wrangler.toml.',
};
