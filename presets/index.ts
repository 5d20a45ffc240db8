import allocationIn from './allocation_in.json';
import allocationOut from './allocation_out.json';
import exchange from './exchange.json';
import inventoryEntry from './inventory_entry.json';
import orderDelivery from './order_delivery.json';
import orderDownload from './order_download.json';
import refund from './refund.json';
import returnEntry from './return_entry.json';
import returnNotice from './return_notice.json';
import stockOut from './stock_out.json';

/**
 * Every order-message preset, in the order /push lists them. Add a preset here (an explicit list:
 * a bundle cannot scan the folder). Each is validated against src/push/preset-schema.ts at start-up.
 */
export const rawPresets: unknown[] = [
  orderDownload,
  orderDelivery,
  refund,
  returnNotice,
  stockOut,
  returnEntry,
  exchange,
  allocationIn,
  allocationOut,
  inventoryEntry,
];
