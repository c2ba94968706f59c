import { type Markup, markup } from '../dashboard/html.js';

type JsonObject = Record<string, unknown>;

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

function refName(value: unknown): string | null {
  const ref = isObject(value) ? value.$ref : undefined;
  return typeof ref === 'string' ? ref.replace('#/components/schemas/', '') : null;
}

/** The media type's schema reference of a request body or response, as a link to its component. */
function describeContent(content: unknown): Markup[] {
  if (!isObject(content)) return [];
  return Object.entries(content).map(([type, media], i) => {
    const name = refName(isObject(media) ? media.schema : undefined);
    return markup`${i > 0 ? ', ' : ''}${name ? markup`<a href="#schema-${name}">${name}</a>` : markup`<code>${type}</code>`}`;
  });
}

function renderOperation(path: string, method: string, op: JsonObject): Markup {
  const body = isObject(op.requestBody) ? markup`<p>Body: ${describeContent(op.requestBody.content)}</p>` : null;
  const responses = isObject(op.responses)
    ? Object.entries(op.responses).map(
        ([status, r]) =>
          markup`<li><b>${status}</b> ${isObject(r) ? markup`${String(r.description ?? '')} ${describeContent(r.content)}` : ''}</li>`,
      )
    : [];
  const params = Array.isArray(op.parameters)
    ? markup`<p>Parameters: ${op.parameters.filter(isObject).map((p, i) => markup`${i > 0 ? ', ' : ''}<code>${String(p.name)}</code> (${String(p.in)})`)}</p>`
    : null;
  const auth = Array.isArray(op.security) && op.security.length === 0 ? markup` <span class="muted">(no token)</span>` : null;
  return markup`<section class="op" id="op-${String(op.operationId)}"><h3><code>${method.toUpperCase()} ${path}</code>${auth}</h3><p>${String(op.summary ?? '')}</p>${params}${body}<ul>${responses}</ul></section>`;
}

/** `/docs`: the OpenAPI document rendered as one plain page (operations, then every schema as JSON). No script, no external assets. */
export function renderDocsPage(doc: JsonObject): Markup {
  const paths = isObject(doc.paths) ? doc.paths : {};
  const ops = Object.entries(paths).flatMap(([path, methods]) =>
    isObject(methods) ? Object.entries(methods).map(([m, op]) => (isObject(op) ? renderOperation(path, m, op) : null)) : [],
  );
  const components = isObject(doc.components) && isObject(doc.components.schemas) ? doc.components.schemas : {};
  const schemas = Object.entries(components).map(
    ([name, schema]) => markup`<section id="schema-${name}"><h3>${name}</h3><pre>${JSON.stringify(schema, null, 2)}</pre></section>`,
  );
  const info = isObject(doc.info) ? doc.info : {};
  return markup`<h1>${String(info.title ?? 'API')} ${String(info.version ?? '')}</h1><p>${String(info.description ?? '')}</p><p>Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1).</p><h2>Operations</h2>${ops}<h2>Schemas</h2>${schemas}`;
}
