import { readFile } from 'node:fs/promises';
import type { z } from 'zod';
import { join } from 'node:path';
import { apiError } from '../errors/api-errors.js';
import { JSON_TYPE, HTML_TYPE, reply, replyJson } from '../http/http-io.js';
import type { ApiContext, Route } from '../http/router.js';
import type { JobLauncher } from '../launch/launchers.js';
import {
  type JobKind,
  JobListResponseSchema,
  JobResponseSchema,
  type JobSnapshot,
  SubmitEvalBodySchema,
  type SubmitEvalBody,
  SubmitSynthBodySchema,
  type SubmitSynthBody,
} from '../schemas/job-schemas.js';
import { type ApiDeps, createJobId } from './api-deps.js';
import { CancelBodySchema } from '../schemas/run-schemas.js';
import { readIdParam, replyCreated, withJsonBody } from './route-helpers.js';

/** What differs between the evaluation and the synthesis routes. */
interface JobKindSpec<Spec> {
  readonly kind: JobKind;
  readonly base: string;
  readonly label: string;
  readonly tag: string;
  readonly bodyName: string;
  readonly schema: z.ZodType<Spec>;
  readonly launcher: JobLauncher<Spec>;
  /** Resolves the body's paths in the data roots; returns the spec with real paths and the output folder. */
  prepare(body: Spec, id: string): Promise<{ spec: Spec; outDir: string }>;
}

async function loadJobOr404(deps: ApiDeps, c: ApiContext, kind: JobKind, label: string): Promise<JobSnapshot> {
  const id = readIdParam(c, label);
  const job = await deps.jobStore.load(kind, id);
  if (job === null) throw apiError('API_NOT_FOUND', `no ${label} ${id}`, { id });
  return job;
}

function createKindRoutes<Spec extends Record<string, unknown>>(deps: ApiDeps, k: JobKindSpec<Spec>): Route[] {
  const name = k.kind === 'eval' ? 'Eval' : 'Synth';
  return [
    {
      method: 'POST',
      path: k.base,
      auth: true,
      doc: {
        operationId: `submit${name}`,
        tag: k.tag,
        summary: `Start ${k.label} job.`,
        body: { name: k.bodyName, schema: k.schema },
        response: { name: 'JobResponse', schema: JobResponseSchema },
        status: 201,
        errors: [400, 413, 415],
      },
      handlers: withJsonBody(k.schema, k.label, deps.bodyLimitBytes, async (c, body) => {
        const id = createJobId(k.kind, deps.now());
        const { spec, outDir } = await k.prepare(body, id);
        if (!(await deps.jobStore.create({ kind: k.kind, id, outDir, spec })))
          throw apiError('API_CONFLICT', `${k.label} ${id} exists already`, { id });
        try {
          await k.launcher.start(id, spec, outDir);
        } catch (error) {
          // Recorded as running a moment ago: a job that never started must not stay "running" forever.
          await deps.jobStore.finish(k.kind, id, 'failed', { message: `could not start: ${(error as Error).message}` });
          throw error;
        }
        return replyCreated(c, `${k.base}/${id}`, { job: await deps.jobStore.load(k.kind, id) });
      }),
    },
    {
      method: 'GET',
      path: k.base,
      auth: true,
      doc: {
        operationId: `list${name}`,
        tag: k.tag,
        summary: `${name} jobs, newest first (at most 100).`,
        response: { name: 'JobListResponse', schema: JobListResponseSchema },
      },
      handlers: [async (c) => replyJson(c, 200, { jobs: await deps.jobStore.list(k.kind, 100) })],
    },
    {
      method: 'GET',
      path: `${k.base}/:id`,
      auth: true,
      doc: {
        operationId: `get${name}`,
        tag: k.tag,
        summary: `One ${k.label} job.`,
        response: { name: 'JobResponse', schema: JobResponseSchema },
        errors: [404],
      },
      handlers: [async (c) => replyJson(c, 200, { job: await loadJobOr404(deps, c, k.kind, k.label) })],
    },
    {
      method: 'POST',
      path: `${k.base}/:id/cancel`,
      auth: true,
      doc: {
        operationId: `cancel${name}`,
        tag: k.tag,
        summary: `Stop a running ${k.label} job this API started. Send \`Content-Type: application/json\` and an empty body or \`{}\`.`,
        body: { name: 'CancelBody', schema: CancelBodySchema },
        response: { name: 'JobResponse', schema: JobResponseSchema },
        errors: [404, 409],
      },
      handlers: withJsonBody(CancelBodySchema, 'cancel', deps.bodyLimitBytes, async (c) => {
        const job = await loadJobOr404(deps, c, k.kind, k.label);
        if (job.state !== 'running')
          throw apiError('API_CONFLICT', `${k.label} ${job.id} has ended (${job.state})`, { id: job.id, state: job.state });
        if (!(await k.launcher.cancel(job.id)))
          throw apiError('API_CONFLICT', `${k.label} ${job.id} is not running in this API process`, { id: job.id });
        await deps.jobStore.finish(k.kind, job.id, 'cancelled', { message: 'cancelled through the API' });
        return replyJson(c, 200, { job: await deps.jobStore.load(k.kind, job.id) });
      }),
    },
  ];
}

/** Serves a file of a finished evaluation; 404 until the evaluation has written it. */
async function serveEvalFile(
  deps: ApiDeps,
  c: ApiContext,
  file: string,
  contentType: string,
  headers: Record<string, string>,
): Promise<Response> {
  const job = await loadJobOr404(deps, c, 'eval', 'evaluation');
  let content: Uint8Array<ArrayBuffer>;
  try {
    content = new Uint8Array(await readFile(join(job.outDir, file)));
  } catch {
    throw apiError('API_NOT_FOUND', `evaluation ${job.id} has no ${file} (yet): it is ${job.state}`, { id: job.id, state: job.state });
  }
  return reply(c, 200, contentType, content, headers);
}

// The report holds model output; a sandboxed, script-less page cannot act with the viewer's cookie.
const REPORT_CSP = "sandbox; default-src 'none'; img-src data: 'self'; style-src 'unsafe-inline'";

/** `/v1/evals…` and `/v1/synth…`: submit, list, get and cancel jobs; evaluation reports and metrics. */
export function createJobRoutes(
  deps: ApiDeps,
  launchers: { evals: JobLauncher<SubmitEvalBody>; synth: JobLauncher<SubmitSynthBody> },
): Route[] {
  const file = (path: string, field: string) => deps.dataRoots.resolve(path, field, { kind: 'file' });
  const folder = (path: string, field: string) => deps.dataRoots.resolve(path, field, { kind: 'folder' });
  const optional = async (path: string | undefined, field: string, read: typeof file) =>
    path === undefined ? undefined : read(path, field);
  const evals = createKindRoutes<SubmitEvalBody>(deps, {
    kind: 'eval',
    base: '/v1/evals',
    label: 'evaluation',
    tag: 'evals',
    bodyName: 'SubmitEvalBody',
    schema: SubmitEvalBodySchema,
    launcher: launchers.evals,
    async prepare(body, id) {
      const spec = { ...body, manifest: await file(body.manifest, 'manifest'), prompts: await optional(body.prompts, 'prompts', file) };
      return { spec, outDir: join(deps.runsRoot, 'evals', id) };
    },
  });
  const synth = createKindRoutes<SubmitSynthBody>(deps, {
    kind: 'synth',
    base: '/v1/synth',
    label: 'synthesis',
    tag: 'synth',
    bodyName: 'SubmitSynthBody',
    schema: SubmitSynthBodySchema,
    launcher: launchers.synth,
    async prepare(body, id) {
      const outDir = await deps.dataRoots.resolve(body.out ?? join('synth', id), 'out', { mustExist: false, kind: 'folder' });
      const spec = {
        ...body,
        normals: await folder(body.normals, 'normals'),
        textures: await optional(body.textures, 'textures', folder),
        foregroundMasks: await optional(body.foregroundMasks, 'foregroundMasks', folder),
        out: outDir,
      };
      return { spec, outDir };
    },
  });
  const reportRoutes: Route[] = [
    {
      method: 'GET',
      path: '/v1/evals/:id/report',
      auth: true,
      doc: {
        operationId: 'getEvalReport',
        tag: 'evals',
        summary: "The evaluation's HTML report (tables, best and worst samples).",
        response: { contentType: 'text/html', description: 'report.html' },
        errors: [404],
      },
      handlers: [async (c) => serveEvalFile(deps, c, 'report.html', HTML_TYPE, { 'content-security-policy': REPORT_CSP })],
    },
    {
      method: 'GET',
      path: '/v1/evals/:id/metrics',
      auth: true,
      doc: {
        operationId: 'getEvalMetrics',
        tag: 'evals',
        summary: 'The evaluation summary: the `differad score --json` object.',
        response: { contentType: 'application/json', description: 'metrics.json' },
        errors: [404],
      },
      handlers: [async (c) => serveEvalFile(deps, c, 'metrics.json', JSON_TYPE, {})],
    },
  ];
  return [...evals, ...synth, ...reportRoutes];
}
