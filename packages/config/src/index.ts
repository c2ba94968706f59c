/** @differad/config — validated settings with the method's defaults, from flags, env and a file. */
export { CONFIG_ERRORS } from './config-errors.js';
export {
  RewardConfigSchema,
  type RewardConfig,
  GrpoConfigSchema,
  type GrpoConfig,
  SamplingConfigSchema,
  type SamplingConfig,
  FrameConfigSchema,
  type FrameConfig,
  DifferadConfigSchema,
  type DifferadConfig,
} from './schemas.js';
export { LOG_FORMAT_NAMES, LOG_LEVEL_NAMES, type LogConfig, LogConfigSchema, LogSettingsSchema, loadLogConfig } from './log-config.js';
export { type MetricsConfig, MetricsConfigSchema, MetricsSettingsSchema, loadMetricsConfig } from './metrics-config.js';
export { type ConfigIssue, ENV_PREFIX, isFlagConfigError, type LoadConfigInput, listEnvNames, loadConfig } from './load-config.js';
export {
  DEFAULT_LOCK_MS,
  DEFAULT_REDIS_GRACE_MS,
  DEFAULT_REQUEST_TIMEOUT_MS,
  OPTIM_DEFAULTS,
  OptimConfigSchema,
  type OptimConfig,
  type ResolvedOptimConfig,
  resolveOptimConfig,
  PolicyConfigSchema,
  type PolicyConfig,
  TrainerConfigSchema,
  type TrainerConfig,
  TrainConfigSchema,
  type TrainConfig,
} from './train-config.js';
