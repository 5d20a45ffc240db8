import { describe, expect, it } from 'vitest';
import { rawPresets } from '../../presets';
import { UserError } from '../../src/errors';
import { formatTime, numbersPerMessage, shanghaiDate } from '../../src/push/generators';
import { allowedQueues, isQueueAllowed } from '../../src/push/prepare';
import { getPath, type Preset, presetSchema } from '../../src/push/preset-schema';
import { createPresetRegistry } from '../../src/push/presets';
import { compileRenderer, renderMessage } from '../../src/push/render';
import { checkRules, userRequiredPaths } from '../../src/push/rules';
import { buildSpec, parseItems, validFieldNames } from '../../src/push/spec';

const registry = createPresetRegistry(rawPresets);
const NOW = Date.UTC(2026, 10, 23, 2, 30, 0); // 2026-11-23 10:30:00 in Shanghai
const QUEUES: Record<string, string> = {
  order_download: 'oms_sales_order_download_queue',
  order_delivery: 'sale_order_add_back',
  refund: 'oms_return_order_download_queue',
  return_notice: 'sale_return_plan_add_back_b2c',
  stock_out: 'purchase_return_plan_add_back',
  return_entry: 'sale_return_plan_add_back',
  exchange: 'oms_exchange_order_download_queue',
  allocation_in: 'entry_order_add_back_other',
  allocation_out: 'stock_out_back',
  inventory_entry: 'inventory_return_order_back',
};

/** The arguments a user must type for a preset: every required field that has no value. */
function minimalOverrides(p: Preset): Record<string, string> {
  const out: Record<string, string> = {};
  for (const path of p.required) {
    const v = getPath(p.body, path);
    if (v === '' || v === null) out[path] = path.toLowerCase().includes('warehouse') ? 'WH009' : '12';
  }
  return out;
}

function userErrorOf(fn: () => unknown): UserError {
  try {
    fn();
  } catch (err) {
    if (err instanceof UserError) return err;
    throw err;
  }
  throw new Error('expected a UserError');
}

describe('presets', () => {
  it("ships all ten order types with the order system's queues, each valid", () => {
    expect(Object.fromEntries(registry.list.map((p) => [p.type, p.queue]))).toEqual(QUEUES);
    for (const raw of rawPresets) expect(presetSchema.safeParse(raw).success).toBe(true);
  });

  it('finds a type by its type, Chinese or English name and aliases', () => {
    expect(registry.get('refund')?.type).toBe('refund');
    expect(registry.get('退款单')?.type).toBe('refund');
    expect(registry.get('Refund')?.type).toBe('refund');
    expect(registry.get('订单下载')?.type).toBe('order_download');
    expect(registry.get('盘点入库')?.type).toBe('inventory_entry');
    expect(registry.suggest('refnd')).toContain('refund');
  });

  it('refuses a preset set with clashing aliases, reserved field names or paths not in the body', () => {
    const refund = rawPresets.find((r) => (r as Preset).type === 'refund') as Preset;
    expect(() => createPresetRegistry([refund, { ...refund, type: 'refund_copy' }])).toThrow(/used by refund and refund_copy/);
    expect(() => createPresetRegistry([{ ...refund, fields: { ...refund.fields, count: 'storeId' } }])).toThrow(/reserved/);
    expect(() => createPresetRegistry([{ ...refund, fields: { x: 'nope.path' } }])).toThrow(/not in the body/);
    expect(() => createPresetRegistry([{ ...refund, body: { ...refund.body, refundNo: '{{missing}}' } }])).toThrow(/missing/);
  });

  it.each(Object.keys(QUEUES))('%s renders a complete message from its required fields and a SKU', (type) => {
    const p = registry.get(type) as Preset;
    const spec = buildSpec(p, { overrides: minimalOverrides(p), items: 'A001*2,B002', count: 3 }, 'zh-CN', NOW);
    const msgs = [0, 1, 2].map((index) =>
      renderMessage(p, spec, { index, seqStart: 1000, date: shanghaiDate(NOW), nowMs: NOW, jobKey: '7' }),
    );
    for (const m of msgs) {
      expect(checkRules(p, m.body)).toEqual([]);
      expect(JSON.stringify(m.body)).not.toMatch(/\{\{\w+\}\}/);
      const items = getPath(m.body, p.items.path) as Record<string, unknown>[];
      expect(items.map((i) => [getPath(i, p.items.sku), getPath(i, p.items.quantity)])).toEqual([
        ['A001', 2],
        ['B002', 1],
      ]);
    }
    expect(new Set(msgs.map((m) => m.orderNo)).size).toBe(3);
    expect(msgs[0]?.orderNo).toMatch(/^[A-Z]{1,6}20261123\d{8}$/);
  });

  it('order download carries the documented fields and needs a valid pay time', () => {
    const p = registry.get('order_download') as Preset;
    const spec = buildSpec(p, { overrides: { store: '12', 'buyer.buyerName': '张三' }, items: 'A001*2', count: 1 }, 'zh-CN', NOW);
    const { body } = renderMessage(p, spec, { index: 0, seqStart: 5, date: '20261123', nowMs: NOW, jobKey: 'k' });
    expect(Object.keys(body)).toEqual(
      expect.arrayContaining(['platformCode', 'platformOrderNo', 'storeId', 'shopName', 'platformPayTime', 'buyer', 'recipient', 'items']),
    );
    expect(Object.keys(body.buyer as object)).toEqual(expect.arrayContaining(['buyerId', 'buyerName', 'buyerPhone']));
    expect(Object.keys(body.recipient as object)).toEqual(
      expect.arrayContaining(['recipientName', 'recipientPhone', 'province', 'city', 'district', 'address']),
    );
    expect(Object.keys((body.items as object[])[0] as object)).toEqual(
      expect.arrayContaining(['itemId', 'skuCode', 'itemName', 'itemQuantity', 'platformSkuCode']),
    );
    expect(body).toMatchObject({ storeId: '12', platformOrderNo: 'PO2026112300000005', buyer: { buyerName: '张三' } });
    expect(body.platformPayTime).toBe('2026-11-23 10:25:00'); // five minutes before the push
    const bad = userErrorOf(() =>
      buildSpec(p, { overrides: { store: '12', paytime: '2026-02-30 10:00:00' }, items: 'A001', count: 1 }, 'zh-CN', NOW),
    );
    expect(bad.key).toBe('push.rule.datetime');
    expect(bad.field).toBe('paytime');
    const empty = userErrorOf(() => buildSpec(p, { overrides: { store: '12', paytime: '' }, items: 'A001', count: 1 }, 'zh-CN', NOW));
    expect(empty.key).toBe('push.rule.required');
  });
});

describe('rendering', () => {
  const refund = registry.get('refund') as Preset;
  const ctx = (index: number) => ({ index, seqStart: 41, date: '20261123', nowMs: NOW, jobKey: '99' });

  it('parses items: quantity only after * (or ×), defaults to 1, separators accepted', () => {
    expect(parseItems('A001*2,B002')).toEqual([
      { sku: 'A001', quantity: 2 },
      { sku: 'B002', quantity: 1 },
    ]);
    expect(parseItems('A-1×3， B_2 C.3*2')).toEqual([
      { sku: 'A-1', quantity: 3 },
      { sku: 'B_2', quantity: 1 },
      { sku: 'C.3', quantity: 2 },
    ]);
    // SKUs that end in digits, or hold an x before digits, are whole SKUs of quantity 1.
    expect(parseItems('BOX12,SKUX2,A001x2,TV55*3')).toEqual([
      { sku: 'BOX12', quantity: 1 },
      { sku: 'SKUX2', quantity: 1 },
      { sku: 'A001x2', quantity: 1 },
      { sku: 'TV55', quantity: 3 },
    ]);
    for (const bad of ['', '*2', 'A001*0', 'A001*-1', 'A 001*x', 'A001*999999', 'A001*2*3', 'A001*', 'A001*1.5'])
      expect(parseItems(bad), bad).toBeNull();
  });

  it('types overrides like the preset default and reuses one generated value in several fields', () => {
    const spec = buildSpec(
      refund,
      { overrides: { store: 12, amount: '9.9', 'buyer.buyerName': '测试{{index}}' }, items: 'A001', count: 2 },
      'zh-CN',
      NOW,
    );
    expect(spec.overrides).toEqual({ storeId: '12', refundAmount: 9.9, 'buyer.buyerName': '测试{{index}}' });
    const m = renderMessage(refund, spec, ctx(1)).body as any;
    expect(m.refundAmount).toBe(9.9);
    expect(m.buyer.buyerName).toBe('测试2');
    // {{orderNo}} is generated once per message and appears in two places.
    expect(m.items[0].itemId).toBe(`${m.platformOrderNo}-1`);
    expect(m.applyTime).toBe(formatTime(NOW, 'yyyy-MM-dd HH:mm:ss'));
  });

  it('pushes from before install tags keep their numbering: the numbers of one message side by side', () => {
    const spec = buildSpec(refund, { overrides: { store: '1' }, items: 'A001', count: 3 }, 'zh-CN', NOW);
    expect(numbersPerMessage(refund)).toBe(2);
    const nums = [0, 1, 2].flatMap((i) => {
      const b = renderMessage(refund, spec, ctx(i)).body as any;
      return [b.refundNo, b.platformOrderNo];
    });
    expect(nums).toEqual([
      'TK2026112300000041',
      'PO2026112300000042',
      'TK2026112300000043',
      'PO2026112300000044',
      'TK2026112300000045',
      'PO2026112300000046',
    ]);
  });

  it('numbers each prefix in its own consecutive block, after the date and the install tag', () => {
    const spec = buildSpec(refund, { overrides: { store: '1' }, items: 'A001', count: 3 }, 'zh-CN', NOW);
    const nums = [0, 1, 2].map((i) => {
      const b = renderMessage(refund, spec, { ...ctx(i), installTag: '004217' }).body as any;
      return [b.refundNo, b.platformOrderNo];
    });
    expect(nums).toEqual([
      ['TK2026112300421700000041', 'PO2026112300421700000044'],
      ['TK2026112300421700000042', 'PO2026112300421700000045'],
      ['TK2026112300421700000043', 'PO2026112300421700000046'],
    ]);
  });

  it.each(Object.keys(QUEUES))('%s: the fast renderer writes exactly what renderMessage renders', (type) => {
    const p = registry.get(type) as Preset;
    // A text field set to something that needs escaping and holds {{index}}.
    const text = Object.entries(p.fields).find(([, path]) => !p.required.includes(path) && typeof getPath(p.body, path) === 'string');
    const overrides = { ...minimalOverrides(p), ...(text ? { [text[0]]: '值{{index}}"\\\\' } : {}) };
    const spec = buildSpec(p, { overrides, items: 'A001*2,B002', count: 4 }, 'zh-CN', NOW);
    const fast = compileRenderer(p, spec);
    for (const installTag of [undefined, '000123']) {
      for (const index of [0, 3]) {
        const c = { ...ctx(index), installTag };
        expect(fast(c)).toBe(JSON.stringify(renderMessage(p, spec, c).body));
      }
    }
  });

  it('keeps a refund total and its items in agreement, whichever is given', () => {
    const sum = (b: any) => b.items.reduce((a: number, i: any) => a + Math.round(i.refundAmount * 100), 0) / 100;
    const byItems = renderMessage(
      refund,
      buildSpec(refund, { overrides: { store: '1' }, items: 'A001*2,B002', count: 1 }, 'zh-CN', NOW),
      ctx(0),
    ).body as any;
    expect(byItems.refundAmount).toBe(198);
    expect(sum(byItems)).toBe(198);
    const given = renderMessage(
      refund,
      buildSpec(refund, { overrides: { store: '1', amount: '50' }, items: 'A001,B002,C003', count: 1 }, 'zh-CN', NOW),
      ctx(0),
    ).body as any;
    expect(given.refundAmount).toBe(50);
    expect(given.items.map((i: any) => i.refundAmount)).toEqual([16.66, 16.66, 16.68]);
    expect(sum(given)).toBe(50);
  });

  it('renders the same message again identically (resumed pushes republish, never renumber)', () => {
    const spec = buildSpec(refund, { overrides: { store: '1' }, items: 'A001', count: 5 }, 'zh-CN', NOW);
    expect(renderMessage(refund, spec, ctx(3))).toEqual(renderMessage(refund, spec, ctx(3)));
    expect((renderMessage(refund, spec, ctx(3)).body as any).buyer.buyerId).not.toBe(
      (renderMessage(refund, spec, ctx(4)).body as any).buyer.buyerId,
    );
  });

  it('explains unknown fields, wrong types, bad items and missing required fields', () => {
    const unknown = userErrorOf(() =>
      buildSpec(refund, { overrides: { store: '1', colour: 'red' }, items: 'A001', count: 1 }, 'zh-CN', NOW),
    );
    expect(unknown).toMatchObject({ key: 'push.unknownField', field: 'colour' });
    expect(String(unknown.vars.valid)).toContain('store');
    expect(
      userErrorOf(() => buildSpec(refund, { overrides: { store: '1', amount: 'lots' }, items: 'A001', count: 1 }, 'zh-CN', NOW)),
    ).toMatchObject({
      key: 'push.badNumber',
      field: 'refundAmount',
    });
    expect(userErrorOf(() => buildSpec(refund, { overrides: { store: '1' }, items: 'A001*zero', count: 1 }, 'zh-CN', NOW)).key).toBe(
      'push.badSku',
    );
    expect(userErrorOf(() => buildSpec(refund, { overrides: { store: '1' }, count: 1 }, 'zh-CN', NOW)).key).toBe('push.missingSku');
    expect(userErrorOf(() => buildSpec(refund, { overrides: {}, items: 'A001', count: 1 }, 'zh-CN', NOW))).toMatchObject({
      key: 'push.rule.required',
      field: 'store',
    });
    expect(
      userErrorOf(() => buildSpec(refund, { overrides: { store: '1', phone: '123' }, items: 'A001', count: 1 }, 'zh-CN', NOW)).key,
    ).toBe('push.rule.phone');
    expect(
      userErrorOf(() => buildSpec(refund, { overrides: { store: '1', 'items.0.skuCode': 'X' }, items: 'A001', count: 1 }, 'zh-CN', NOW))
        .key,
    ).toBe('push.unknownField');
  });

  it("takes only the preset's own paths as fields, each once", () => {
    for (const key of ['toString', 'constructor', '__proto__', 'hasOwnProperty', 'buyer.toString']) {
      expect(
        userErrorOf(() => buildSpec(refund, { overrides: { store: '1', [key]: 'x' }, items: 'A001', count: 1 }, 'zh-CN', NOW)),
        key,
      ).toMatchObject({ key: 'push.unknownField', field: key });
    }
    const twice = userErrorOf(() => buildSpec(refund, { overrides: { store: '1', 门店: '2' }, items: 'A001', count: 1 }, 'zh-CN', NOW));
    expect(twice).toMatchObject({ key: 'push.repeatedField', field: '门店', vars: { other: 'store' } });
  });

  it('lists each field once with all its names, and as required only what the user must give', () => {
    expect(validFieldNames(refund)).toContain('store/门店');
    expect(validFieldNames(refund).filter((n) => n.includes('store'))).toHaveLength(1);
    expect(userRequiredPaths(refund)).toEqual(['storeId']); // refundNo and platformOrderNo are generated
    expect(userRequiredPaths(registry.get('stock_out') as Preset)).toEqual([]);
  });

  it('formats times on the Shanghai clock', () => {
    expect(formatTime(NOW, 'yyyy-MM-dd HH:mm:ss')).toBe('2026-11-23 10:30:00');
    expect(formatTime(NOW, 'yyyyMMddHHmmss')).toBe('20261123103000');
    expect(formatTime(NOW, 'iso')).toBe('2026-11-23T10:30:00+08:00');
    expect(formatTime(NOW, 'epochMillis')).toBe(NOW);
    expect(shanghaiDate(Date.UTC(2026, 10, 23, 16, 0, 0))).toBe('20261124');
  });

  it('matches queues against the allow-list, with prefix wildcards', () => {
    expect(isQueueAllowed('sale_order_add_back', ['sale_order_add_back'])).toBe(true);
    expect(isQueueAllowed('test_abc', ['test_*'])).toBe(true);
    expect(isQueueAllowed('prod_abc', ['test_*', 'sale_order_add_back'])).toBe(false);
    // PUSH_EXTRA_QUEUES adds to the default (the presets' queues) instead of replacing it.
    const extra = allowedQueues({ PUSH_ALLOWED_QUEUES: undefined, PUSH_EXTRA_QUEUES: ['uat_refund'] }, registry);
    expect(extra).toEqual([...Object.values(QUEUES).filter((q, i, all) => all.indexOf(q) === i), 'uat_refund']);
    expect(allowedQueues({ PUSH_ALLOWED_QUEUES: ['test_*'], PUSH_EXTRA_QUEUES: ['uat_refund'] }, registry)).toEqual([
      'test_*',
      'uat_refund',
    ]);
  });
});
