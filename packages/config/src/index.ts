/** @differad/config — validated settings with the method's defaults, from flags, env and a file. */
export { CONFIG_ERRORS } from './config-errors.js';
export { type DifferadConfig } from './schemas.js';
export { LOG_FORMAT_NAMES, LOG_LEVEL_NAMES, loadLogConfig } from './log-config.js';
export { type MetricsConfig, loadMetricsConfig } from './metrics-config.js';
export { isFlagConfigError, loadConfig } from './load-config.js';
export { DEFAULT_LOCK_MS, resolveOptimConfig, TrainConfigSchema, type TrainConfig } from './train-config.js';
