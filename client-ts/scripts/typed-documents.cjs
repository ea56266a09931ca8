// A graphql-codegen plugin: every operation of operations/*.graphql as a typed document string,
// the operation followed by the fragments it spreads (transitively), ready to POST as `query`.
// Its types come from the `typescript-operations` plugin that runs before it in the same file.
const { Kind, print, visit } = require("graphql");

function spreads(node) {
  const names = new Set();
  visit(node, { FragmentSpread: (spread) => void names.add(spread.name.value) });
  return names;
}

function fragmentsOf(operation, fragments) {
  const seen = new Set();
  const pending = [...spreads(operation)];
  while (pending.length > 0) {
    const name = pending.shift();
    if (seen.has(name)) continue;
    const fragment = fragments.get(name);
    if (fragment === undefined) throw new Error(`Unknown fragment ${name}`);
    seen.add(name);
    pending.push(...spreads(fragment));
  }
  return [...seen].sort().map((name) => fragments.get(name));
}

function capitalized(word) {
  return word.charAt(0).toUpperCase() + word.slice(1);
}

module.exports = {
  plugin(_schema, documents) {
    const definitions = documents.flatMap((file) => file.document.definitions);
    const fragments = new Map(
      definitions
        .filter((node) => node.kind === Kind.FRAGMENT_DEFINITION)
        .map((node) => [node.name.value, node]),
    );
    const operations = definitions
      .filter((node) => node.kind === Kind.OPERATION_DEFINITION)
      .sort((a, b) => (a.name.value < b.name.value ? -1 : 1));
    const lines = [];
    for (const operation of operations) {
      if (operation.name === undefined) throw new Error("Every operation needs a name");
      const name = operation.name.value;
      const types = `${name}${capitalized(operation.operation)}`;
      const text = [operation, ...fragmentsOf(operation, fragments)].map(print).join("\n\n");
      lines.push(
        `export const ${name}Document = ${JSON.stringify(text)} as TypedDocument<${types}, ${types}Variables>;`,
      );
    }
    const table = operations.map((node) => `  ${node.name.value}: ${node.name.value}Document,`);
    return {
      prepend: ['import type { TypedDocument } from "../document.js";'],
      content: [
        "",
        ...lines,
        "",
        "/** Every operation of operations/*.graphql by name (a safelist manifest reads this). */",
        "export const documents = {",
        ...table,
        "} as const;",
        "",
      ].join("\n"),
    };
  },
};
