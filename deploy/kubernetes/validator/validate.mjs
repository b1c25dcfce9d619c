// Validates Kubernetes manifests offline, one line per file. Two checks per object:
//  1. kubernetes-models: the JSON schema of its kind from the Kubernetes OpenAPI spec (types,
//     required fields, formats such as quantities, the enums the spec lists). It allows unknown fields.
//  2. @kubernetes/client-node's generated models: every field must be one the API defines, so a
//     misspelt key (readinesProbe) is an error rather than silently dropped by the API server.
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { parseAllDocuments } from "yaml";
import * as models from "@kubernetes/client-node/dist/gen/models/all.js";

async function schemaErrors(object) {
  const [group, version] = object.apiVersion.includes("/") ? object.apiVersion.split("/") : [null, object.apiVersion];
  const path = ["kubernetes-models", group, version, object.kind].filter(Boolean).join("/");
  let model;
  try {
    model = (await import(path))[object.kind];
  } catch {
    return [`no schema for ${object.apiVersion} ${object.kind}`];
  }

  try {
    new model(object).validate();
    return [];
  } catch (error) {
    return [error.message];
  }
}

function unknownFields(value, type, path, errors) {
  if (value === null || value === undefined) return;
  const array = /^Array<(.+)>$/.exec(type);
  if (array) {
    if (Array.isArray(value)) value.forEach((item, i) => unknownFields(item, array[1], `${path}[${i}]`, errors));
    return;
  }

  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) {
    for (const [key, item] of Object.entries(value)) unknownFields(item, map[1], `${path}.${key}`, errors);
    return;
  }

  const model = models[type];
  if (typeof model?.getAttributeTypeMap !== "function" || typeof value !== "object" || Array.isArray(value)) return;
  const attributes = new Map(model.getAttributeTypeMap().map((a) => [a.baseName, a.type]));
  for (const [key, item] of Object.entries(value)) {
    if (!attributes.has(key)) errors.push(`${path}.${key}: unknown field of ${type}`);
    else unknownFields(item, attributes.get(key), `${path}.${key}`, errors);
  }
}

let failed = 0;
for (const file of process.argv.slice(2)) {
  const errors = [];
  const names = [];
  const documents = parseAllDocuments(readFileSync(file, "utf8"), { uniqueKeys: true });
  for (const document of documents) {
    errors.push(...document.errors.map((e) => e.message.split("\n")[0]));
    const object = document.toJS();
    if (object === null || object === undefined) continue;
    if (typeof object.apiVersion !== "string" || typeof object.kind !== "string") {
      errors.push("apiVersion and kind are required");
      continue;
    }

    names.push(`${object.apiVersion} ${object.kind} ${object.metadata?.name ?? "(no name)"}`);
    errors.push(...(await schemaErrors(object)));
    const version = object.apiVersion.split("/").pop();
    unknownFields(object, version[0].toUpperCase() + version.slice(1) + object.kind, object.kind, errors);
  }

  if (names.length === 0 && errors.length === 0) errors.push("no Kubernetes object");
  if (errors.length === 0) {
    console.log(`${basename(file)}: valid (${names.join("; ")})`);
  } else {
    failed++;
    console.log(`${basename(file)}: INVALID: ${errors.join("; ")}`);
  }
}

process.exitCode = failed === 0 ? 0 : 1;
