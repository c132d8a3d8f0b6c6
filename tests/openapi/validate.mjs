// node validate.mjs FILE: checks FILE with @apidevtools/swagger-parser (the OpenAPI 3.0 schema,
// every $ref resolvable, unique operationIds, path parameters declared), then compiles every
// schema in it with Ajv in strict mode, which refuses unknown or misspelled keywords that the
// OpenAPI schema lets through. Exits 1 with the reasons when any check fails.
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
