import { escapeHtml } from '../dashboard/html.js';

type JsonObject = Record<string, unknown>;

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

function refName(value: unknown): string | null {
  const ref = isObject(value) ? value.$ref : undefined;
  return typeof ref === 'string' ? ref.replace('#/components/schemas/', '') : null;
}

/** The media type's schema reference of a request body or response, as a link to its component. */
function describeContent(content: unknown): string {
  if (!isObject(content)) return '';
  return Object.entries(content)
    .map(([type, media]) => {
      const name = refName(isObject(media) ? media.schema : undefined);
      return name ? `<a href="#schema-${escapeHtml(name)}">${escapeHtml(name)}</a>` : `<code>${escapeHtml(type)}</code>`;
    })
    .join(', ');
}

function renderOperation(path: string, method: string, op: JsonObject): string {
  const body = isObject(op.requestBody) ? `<p>Body: ${describeContent(op.requestBody.content)}</p>` : '';
  const responses = isObject(op.responses)
    ? Object.entries(op.responses)
        .map(([status, r]) => `<li><b>${escapeHtml(status)}</b> ${isObject(r) ? `${escapeHtml(String(r.description ?? ''))} ${describeContent(r.content)}` : ''}</li>`)
        .join('')
    : '';
  const params = Array.isArray(op.parameters)
    ? `<p>Parameters: ${op.parameters
        .filter(isObject)
        .map((p) => `<code>${escapeHtml(String(p.name))}</code> (${escapeHtml(String(p.in))})`)
        .join(', ')}</p>`
    : '';
  const auth = Array.isArray(op.security) && op.security.length === 0 ? ' <span class="muted">(no token)</span>' : '';
  return (
    `<section class="op" id="op-${escapeHtml(String(op.operationId))}"><h3><code>${escapeHtml(method.toUpperCase())} ${escapeHtml(path)}</code>${auth}</h3>` +
    `<p>${escapeHtml(String(op.summary ?? ''))}</p>${params}${body}<ul>${responses}</ul></section>`
  );
}

/** `/docs`: the OpenAPI document rendered as one plain page (operations, then every schema as JSON). No script, no external assets. */
export function renderDocsPage(doc: JsonObject): string {
  const paths = isObject(doc.paths) ? doc.paths : {};
  const ops = Object.entries(paths)
    .flatMap(([path, methods]) => (isObject(methods) ? Object.entries(methods).map(([m, op]) => (isObject(op) ? renderOperation(path, m, op) : '')) : []))
    .join('');
  const components = isObject(doc.components) && isObject(doc.components.schemas) ? doc.components.schemas : {};
  const schemas = Object.entries(components)
    .map(([name, schema]) => `<section id="schema-${escapeHtml(name)}"><h3>${escapeHtml(name)}</h3><pre>${escapeHtml(JSON.stringify(schema, null, 2))}</pre></section>`)
    .join('');
  const info = isObject(doc.info) ? doc.info : {};
  return (
    `<h1>${escapeHtml(String(info.title ?? 'API'))} ${escapeHtml(String(info.version ?? ''))}</h1><p>${escapeHtml(String(info.description ?? ''))}</p>` +
    `<p>Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1).</p><h2>Operations</h2>${ops}<h2>Schemas</h2>${schemas}`
  );
}
