/**
 * objects: the things in a photo (COCO's 80 classes with SSD MobileNet), each with a label, a
 * score and a box in the photo's upright pixels, best first; pictures: the photo with every
 * object boxed and labelled. Descriptor section `objects:`.
 *
 * The model's graph is cut before its TFLite_Detection_PostProcess (LiteRT.js cannot run it:
 * its output shapes are only known at run time); ./post-process.ts does that operator's work
 * with the settings the model file holds (./model-settings.ts).
 */
import type { TensorData } from '../../engine/types.js';
import { annotatedPhotoPictures } from '../pictures.js';
import type { InferContext, Task } from '../task.js';
import type { ObjectsState } from './check.js';
import { MAX_OBJECTS, type ObjectsOptions, parseObjectsOptions } from './options.js';
import { annotateObjects, objectsText } from './render.js';
import type { ObjectsResult } from './result.js';
import { objectsSchema, objectsSectionOf } from './section.js';

async function findObjects(
  { photo, model, run, preparing }: InferContext<ObjectsState>,
  options: ObjectsOptions,
): Promise<Pick<ObjectsResult, 'objects'>> {
  const { width, height, resize } = model.descriptor.input;
  // Image code and the post-processing load on first use (see src/tasks/index.ts).
  const [{ resizeToRgb, rgbToTensor }, { postProcess }, { toObjects }] = await Promise.all([
    import('../../image/to-tensor.js'),
    import('./post-process.js'),
    import('./result.js'),
  ]);
  const input = await preparing(async () =>
    rgbToTensor(await resizeToRgb(photo, width, height, resize), model.layout),
  );
  const outputs = await run(input);
  const { settings, boxes, scores } = model.state;
  const detections = postProcess(
    boxes.read(outputs[boxes.index] as TensorData),
    scores.read(outputs[scores.index] as TensorData),
    settings,
    {
      minScore: options.threshold ?? objectsSectionOf(model.descriptor).threshold,
      maxDetections: options.max ?? Math.min(settings.maxDetections, MAX_OBJECTS),
    },
  );
  const size = { width: photo.uprightWidth, height: photo.uprightHeight };
  return { objects: toObjects(detections, model.labels, size) };
}

export const objectsTask: Task<ObjectsOptions, ObjectsResult, ObjectsState> = {
  id: 'objects',
  summary: 'the objects in the photo (COCO classes): labels, scores and boxes; or the photo with them boxed',
  defaultModel: 'objects',
  section: { key: 'objects', schema: objectsSchema },
  labelsOf: (descriptor) => objectsSectionOf(descriptor).labels,
  // Reading the model's settings loads on first use (see src/tasks/index.ts).
  prepareModel: async (parts) => (await import('./check.js')).prepareObjects(parts),
  parseOptions: parseObjectsOptions,
  infer: findObjects,
  text: objectsText,
  pictures: annotatedPhotoPictures('the photo with a labelled box around every object', annotateObjects),
  cli: {
    flags: [
      {
        flag: 'threshold',
        option: 'threshold',
        value: 'T',
        help: "the score an object needs, 0 to 1 (default: the model's, 0.5 for 'objects')",
      },
      {
        flag: 'max',
        option: 'max',
        value: 'N',
        help: `how many objects at most, 1 to ${MAX_OBJECTS} (default: the model's max_detections, 10 for 'objects')`,
      },
    ],
    defaultFormat: 'text',
  },
};

export type { ObjectsOptions } from './options.js';
export type { DetectedObject, ObjectBox, ObjectsResult } from './result.js';
