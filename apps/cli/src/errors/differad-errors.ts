import { API_ERRORS } from '@differad/api';
import { CONFIG_ERRORS } from '@differad/config';
import { CORE_ERRORS, type DifferadErrorTables, mergeErrorTables } from '@differad/core';
import { CPU_POLICY_ERRORS } from '@differad/cpu-policy';
import { DATASET_ERRORS } from '@differad/datasets';
import { HTTP_SERVER_ERRORS } from '@differad/http-server';
import { IMAGE_ERRORS } from '@differad/images';
import { INFERENCE_ERRORS } from '@differad/inference';
import { ORCHESTRATOR_ERRORS } from '@differad/orchestrator';
import { QUEUE_ERRORS } from '@differad/queue';
import { TRAINER_ERRORS } from '@differad/trainer-client';
import { CLI_ERRORS } from './cli-errors.js';

/**
 * Every package's error table by package name. Typed as the registry's
 * merged interface, so a package that registers a table this list lacks does
 * not compile: the CLI, which runs every package, knows every code.
 */
export const DIFFERAD_ERROR_TABLES: { readonly [P in keyof DifferadErrorTables]: DifferadErrorTables[P] } = {
  core: CORE_ERRORS,
  config: CONFIG_ERRORS,
  datasets: DATASET_ERRORS,
  images: IMAGE_ERRORS,
  'http-server': HTTP_SERVER_ERRORS,
  inference: INFERENCE_ERRORS,
  'trainer-client': TRAINER_ERRORS,
  queue: QUEUE_ERRORS,
  'cpu-policy': CPU_POLICY_ERRORS,
  orchestrator: ORCHESTRATOR_ERRORS,
  api: API_ERRORS,
  cli: CLI_ERRORS,
};

/** Every registered code and its spec, each code once (merging throws on a code two packages claim). */
export const DIFFERAD_ERRORS = mergeErrorTables(...Object.values(DIFFERAD_ERROR_TABLES));
