import type { AddressInfo } from 'node:net';
import { type ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

/**
 * A local SMTP server (the smtp-server package, the real protocol) that parses every mail it
 * receives. `reject(code)` makes the next RCPT TO fail with that reply code (451 temporary, 550 final).
 */
export async function startSmtp() {
  const mails: ParsedMail[] = [];
  const rejects: number[] = [];
  let rcptCommands = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onRcptTo(_address, _session, cb) {
      rcptCommands++;
      const code = rejects.shift();
      if (!code) return cb();
      const err = Object.assign(new Error(code >= 500 ? 'mailbox unavailable' : 'try again later'), { responseCode: code });
      cb(err);
    },
    onData(stream, _session, cb) {
      simpleParser(stream)
        .then((m) => {
          mails.push(m);
          cb();
        })
        .catch(cb);
    },
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.server.address() as AddressInfo;
  return {
    port,
    mails,
    get rcptCommands() {
      return rcptCommands;
    },
    reject(...codes: number[]) {
      rejects.push(...codes);
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
