/** @differad/images — image I/O (sharp) and drawing. */
export { type RawImage, writeRawImage } from './encode/write-image.js';
export { EXAMPLE_CLASSES, type ExampleClass, type ExamplePair, drawExamplePair } from './example/draw-example-pair.js';
