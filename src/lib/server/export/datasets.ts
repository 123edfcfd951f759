/**
 * Builds the datasets of an export from the database: one shared context (versions, rooms,
 * the moment the export began), then each dataset, whose rows are only read when its batches
 * are iterated.
 */
import type { Executor } from '../db';
import { createChatDataset } from './chat';
import { loadExportContext } from './context';
import { DATASETS, type Dataset, type DatasetName, type ExportScope } from './dataset';
import { createEventsDataset } from './events';
import { createParticipantsDataset } from './participants';
import { createResponsesDataset } from './responses';
import { createTelemetryDataset } from './telemetry';
import { createWideDataset } from './wide';

/** The datasets `names` (default: all, in the canonical order) of an export of `scope`. */
export async function buildDatasets(
	db: Executor,
	scope: ExportScope,
	names: readonly DatasetName[] = DATASETS
): Promise<Dataset[]> {
	const context = await loadExportContext(db, scope);
	const datasets: Dataset[] = [];
	for (const name of DATASETS) {
		if (!names.includes(name)) continue;
		switch (name) {
			case 'events':
				datasets.push(createEventsDataset(db, context));
				break;
			case 'responses':
				datasets.push(createResponsesDataset(db, context));
				break;
			case 'wide':
				datasets.push(createWideDataset(db, context));
				break;
			case 'telemetry':
				datasets.push(createTelemetryDataset(db, context));
				break;
			case 'chat':
				datasets.push(createChatDataset(db, context));
				break;
			case 'participants':
				datasets.push(await createParticipantsDataset(db, context));
				break;
		}
	}
	return datasets;
}
