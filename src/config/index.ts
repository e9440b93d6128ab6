// The configuration: every TFLITE_FN_* variable, declared and read in one place.
export * from './setting.js';
export * from './variables.js';
