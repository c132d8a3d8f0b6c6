// What validate.mjs and conformance.mjs share: an Ajv set up for OpenAPI 3.0 schemas, and a walk
// over every schema of a dereferenced document.
import Ajv from "ajv";
import addFormats from "ajv-formats";

// Ajv in strict mode (an unknown keyword is an error), with the keywords OpenAPI 3.0 adds to JSON
// Schema that carry no validation of their own.
export function makeAjv() {
  const ajv = new Ajv({ strict: true, allErrors: true, strictTypes: false });
  addFormats(ajv);
  for (const keyword of ["example", "xml", "externalDocs"]) {
    ajv.addKeyword({ keyword });
  }
  return ajv;
}

const kMethods = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

// Yields {where, schema} for every parameter, request body and response body schema of `doc`
// (already dereferenced), and for every component schema.
export function* walkSchemas(doc) {
  for (const [name, schema] of Object.entries(doc.components?.schemas ?? {})) {
    yield { where: `components.schemas.${name}`, schema };
  }
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of kMethods) {
      const op = item[method];
      if (!op) continue;
      const at = `${method.toUpperCase()} ${path}`;
      for (const p of [...(item.parameters ?? []), ...(op.parameters ?? [])]) {
        if (p.schema) yield { where: `${at} parameter ${p.name}`, schema: p.schema };
      }
      for (const [type, media] of Object.entries(op.requestBody?.content ?? {})) {
        if (media.schema) yield { where: `${at} request ${type}`, schema: media.schema };
      }
      for (const [status, response] of Object.entries(op.responses ?? {})) {
        for (const [type, media] of Object.entries(response.content ?? {})) {
          if (media.schema) yield { where: `${at} ${status} ${type}`, schema: media.schema };
        }
        for (const [name, header] of Object.entries(response.headers ?? {})) {
          if (!header.schema) continue;
          yield { where: `${at} ${status} header ${name}`, schema: header.schema };
        }
      }
    }
  }
}
