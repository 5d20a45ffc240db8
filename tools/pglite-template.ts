import { preparePgliteTemplate } from '../src/db/pglite-init';

// Run by `npm run build` (so by `npm ci` and `npm start`): create the embedded database's template
// cluster once, so a first start on an empty data directory copies it instead of running initdb.
await preparePgliteTemplate();
