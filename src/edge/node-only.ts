// The Worker bundle maps Node-only libraries here (wrangler.toml `[alias]`): the edge records and
// queues; the Node instances run the jobs that publish to RabbitMQ, write .xlsx, query MySQL and send
// e-mail. Anything that reaches one of these at the edge is a bug, and says so.
function unavailable(): never {
  throw new Error('not available at the edge: this runs on the Node instances');
}

const nodeOnly: Record<string, unknown> = new Proxy({}, { get: () => unavailable });
export default nodeOnly;
