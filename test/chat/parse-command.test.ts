import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { normalizeWidth, parseCommand, tokenize } from '../../src/chat/parse-command';

describe('parseCommand', () => {
  const table: [string, string, Record<string, string>, string[], string[]][] = [
    // input, name, args, positional, body
    ['/help', 'help', {}, [], []],
    ['help', 'help', {}, [], []],
    ['  /PING  ', 'ping', {}, [], []],
    ['@机器人 /push refund store=12 sku=A001*2,B002', 'push', { store: '12', sku: 'A001*2,B002' }, ['refund'], []],
    ['@bot @alice push refund count=5 dry', 'push', { count: '5' }, ['refund', 'dry'], []],
    ['／push　refund　store＝12　sku＝A001＊2，B002', 'push', { store: '12', sku: 'A001*2,B002' }, ['refund'], []],
    ['/ｐｕｓｈ ｒｅｆｕｎｄ ｃｏｕｎｔ＝３', 'push', { count: '3' }, ['refund'], []],
    ['/push refund buyer.buyerName=张三 shopName="旗舰 店"', 'push', { 'buyer.buyerName': '张三', shopName: '旗舰 店' }, ['refund'], []],
    ['/push refund shopName=“趣车 良品” note=‘a b’', 'push', { shopName: '趣车 良品', note: 'a b' }, ['refund'], []],
    ['/template save "my tpl" refund', 'template', {}, ['save', 'my tpl', 'refund'], []],
    ['/push 退款单 门店=12', 'push', { 门店: '12' }, ['退款单'], []],
    ['推送 退款单', '推送', {}, ['退款单'], []],
    [
      '/diagnose brands=趣车良品,竞品A models=doubao\n哪家二手车平台靠谱？\n\n  推荐一个买车的平台  \n',
      'diagnose',
      { brands: '趣车良品,竞品A', models: 'doubao' },
      [],
      ['哪家二手车平台靠谱？', '推荐一个买车的平台'],
    ],
    ['@bot\n/help push', 'help', {}, ['push'], []],
    ['/push refund sku=A001 sku=B002*3', 'push', { sku: 'A001,B002*3' }, ['refund'], []],
    ['/export run url=https://x.test/a?b=c&d=e', 'export', { url: 'https://x.test/a?b=c&d=e' }, ['run'], []],
    ["/push refund buyer.buyerName=O'Brien", 'push', { 'buyer.buyerName': "O'Brien" }, ['refund'], []],
    ['/x =5 a==b', 'x', { a: '=b' }, ['=5'], []],
    ['/push refund shopName="unterminated value', 'push', { shopName: 'unterminated value' }, ['refund'], []],
    ['', '', {}, [], []],
    ['@bot', '', {}, [], []],
    ['   \n  \n', '', {}, [], []],
  ];
  it.each(table)('%j', (input, name, args, positional, body) => {
    const { repeated, ...p } = parseCommand(input);
    expect(p).toEqual({ name, args, positional, body });
    expect(repeated).toEqual(name === 'push' && 'sku' in args && input.split('sku=').length > 2 ? ['sku'] : []);
  });

  it('normalises full-width characters and spaces but keeps Chinese text', () => {
    expect(normalizeWidth('／ｈｅｌｐ　１２３，＝＊')).toBe('/help 123,=*');
    expect(normalizeWidth('趣车良品“引号”')).toBe('趣车良品“引号”');
  });

  it('tokenizes quotes only at the start of a word or value', () => {
    expect(tokenize(`a "b c" d='e f' it's`)).toEqual(['a', 'b c', 'd=e f', "it's"]);
  });

  it('never throws and always returns well-formed output (property)', () => {
    const alphabet = fc.constantFrom(...' /＝=，,"“”‘’\'「」@\n\t　abcZ12*.-_退款单门店'.split(''));
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: alphabet, maxLength: 60 }), fc.string({ unit: 'grapheme' })), (s) => {
        const p = parseCommand(s);
        expect(typeof p.name).toBe('string');
        expect(p.name).toBe(p.name.toLowerCase());
        expect(p.name.startsWith('/')).toBe(false);
        for (const [k, v] of Object.entries(p.args)) {
          expect(k.length).toBeGreaterThan(0);
          expect(typeof v).toBe('string');
        }
        for (const line of p.body) expect(line).toBe(line.trim());
      }),
      { numRuns: 3000 },
    );
  });
});
