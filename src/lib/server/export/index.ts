/**
 * Research data out of Ensemble: six datasets (events, responses, wide, telemetry, chat,
 * participants) streamed as CSV, JSON or NDJSON, or together as a Psych-DS bundle, filtered
 * by version, date, outcome and bots, audited, with external ids only for the data permission.
 */
export { DATASETS, EXPORT_FORMATS, type Dataset, type DatasetName } from './dataset';
export { buildDatasets } from './datasets';
export { streamDataset, ROW_FORMATS, type RowFormat } from './formats';
export { parseDataQuery, describeFilter, type DataQuery } from './query';
export {
	openDatasetExport,
	openBundleExport,
	countExportRows,
	listExportVersions,
	EXPORT_AUDIT_ACTION,
	type ExportVersion
} from './service';
export { respondExportFailure, respondDownload } from './http';
