export { filesCleanupStep, removeExpiredFiles } from './cleanup';
export { contentDisposition, contentTypeOf, fileLinkKey, verifyFileLink } from './link';
export {
  type FileDeps,
  type FileRecord,
  filePath,
  filesOfJobs,
  fileUrl,
  getFile,
  type StoredFile,
  type StoreFileInput,
  storeFile,
  tempFilePath,
} from './store';
