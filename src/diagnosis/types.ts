import type { Brand, BrandStats } from './analysis';

/** Job kind of brand diagnoses (the old API's task_type). */
export const DIAGNOSIS_KIND = 'brand_diagnosis';

/** What a diagnosis job is given. */
export interface DiagnosisPayload {
  /** The first brand is the user's own. */
  brands: Brand[];
  models: string[];
  questions: string[];
  /** Same brand set → same key: the summary compares with the last run of this key. */
  brandKey: string;
  requestedBy: string;
}

/** What a finished diagnosis reports (answers themselves stay in diagnosis_answers). */
export interface DiagnosisResult {
  brands: Brand[];
  models: string[];
  questions: string[];
  calls: number;
  answered: number;
  failed: number;
  overall: BrandStats[];
  perModel: { model: string; stats: BrandStats[] }[];
  /** One line per call that got no answer. */
  warnings: string[];
  /** The last earlier run with the same brand set. */
  previous?: { jobId: number; finishedAt: string | null; overall: BrandStats[] };
  report?: ReportLink;
  reportError?: string;
  durationMs: number;
}

/** Where a written report can be downloaded. */
export interface ReportLink {
  url: string;
  filename: string;
  expiresAt?: string;
}
