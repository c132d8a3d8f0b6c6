// node validate.mjs FILE: checks FILE with @apidevtools/swagger-parser (the OpenAPI 3.0 schema,
// every $ref resolvable), then what the specification requires beyond its schema and
// swagger-parser checks only for Swagger 2.0 (unique operationIds; each {name} of a path declared
// as a required path parameter and no other), then compiles every schema in it with Ajv in strict
// mode, which refuses unknown or misspelled keywords. Exits 1 with the reasons when any fails.
import { readFileSync } from "node:fs";
import SwaggerParser from "@apidevtools/swagger-parser";
import { makeAjv, walkSchemas } from "./schemas.mjs";

const file = process.argv[2];
if (!file) {
  console.error("usage: node validate.mjs docs/openapi.json");
  process.exit(2);
}

let failures = 0;
const raw = JSON.parse(readFileSync(file, "utf8"));
try {
  await SwaggerParser.validate(structuredClone(raw));
} catch (error) {
  console.error(`${file}: not a valid OpenAPI document:\n${error.message}`);
  process.exit(1);
}

const ajv = makeAjv();
const doc = await SwaggerParser.dereference(structuredClone(raw));

const kMethods = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
const operationIds = new Map();
for (const [path, item] of Object.entries(doc.paths)) {
  const inPath = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]).sort();
  for (const method of kMethods) {
    const op = item[method];
    if (!op) continue;
    const at = `${method.toUpperCase()} ${path}`;
    if (op.operationId) {
      if (operationIds.has(op.operationId)) {
        console.error(`${file}: operationId ${op.operationId} of ${at} is also that of ` +
          operationIds.get(op.operationId));
        failures++;
      }
      operationIds.set(op.operationId, at);
    }
    // Operation-level parameters override path-level ones of the same name and place.
    const params = new Map();
    for (const p of [...(item.parameters ?? []), ...(op.parameters ?? [])]) {
      params.set(`${p.in}:${p.name}`, p);
    }
    const declared = [...params.values()].filter((p) => p.in === "path");
    const names = declared.map((p) => p.name).sort();
    if (names.join(",") !== inPath.join(",")) {
      console.error(`${file}: ${at} declares path parameters [${names}], its path has [${inPath}]`);
      failures++;
    }
    for (const p of declared) {
      if (p.required !== true) {
        console.error(`${file}: ${at}: path parameter ${p.name} must be required: true`);
        failures++;
      }
    }
    if (!Object.keys(op.responses ?? {}).some((status) => /^[23]/.test(status))) {
      console.error(`${file}: ${at} documents no 2xx or 3xx status`);
      failures++;
    }
  }
}
for (const { where, schema } of walkSchemas(doc)) {
  try {
    ajv.compile(schema);
  } catch (error) {
    console.error(`${file}: schema at ${where}: ${error.message}`);
    failures++;
  }
}
if (failures > 0) process.exit(1);
const operations = Object.values(doc.paths).flatMap((item) =>
  Object.keys(item).filter((k) => k !== "parameters"));
console.log(`${file}: valid OpenAPI ${doc.openapi}, ${operations.length} operations`);
