// The Prometheus text format (version 0.0.4) read back strictly, for the
// /metrics tests of a pool (metrics_test.ts) and of a Redis queue
// (redis_source_test.ts).
import assert from "node:assert/strict";

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Exposition {
  help: Map<string, string>;
  type: Map<string, string>;
  samples: Sample[];
}

const NAME = "[a-zA-Z_:][a-zA-Z0-9_:]*";
const LABEL = `([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\\\\n]|\\\\[\\\\"n])*)"`;
const VALUE = "(-?(?:\\d+(?:\\.\\d+)?(?:[eE][-+]?\\d+)?)|[-+]Inf|NaN)";
const SAMPLE = new RegExp(
  `^(${NAME})(?:\\{(${LABEL}(?:,${LABEL})*)?\\})? ${VALUE}$`,
);
const COMMENT = new RegExp(`^# (HELP|TYPE) (${NAME}) (.+)$`);
const TYPES = new Set(["counter", "gauge", "histogram", "summary", "untyped"]);

// The family a sample belongs to: a histogram's _bucket, _sum and _count
// lines are its family's.
export function familyOf(name: string, types: Map<string, string>): string {
  const base = name.replace(/_(bucket|sum|count)$/, "");
  return types.get(base) === "histogram" ? base : name;
}

/** Parses the text format strictly: any line that is not well-formed throws. */
export function parse(text: string): Exposition {
  assert.ok(text.endsWith("\n"), "the exposition ends with a newline");
  const help = new Map<string, string>();
  const type = new Map<string, string>();
  const samples: Sample[] = [];
  const finished = new Set<string>();
  let current = "";
  for (const line of text.slice(0, -1).split("\n")) {
    const comment = COMMENT.exec(line);
    if (comment !== null) {
      const [, kind, name, rest] = comment;
      if (name !== current) {
        assert.ok(!finished.has(name), `family ${name} appears twice`);
        if (current !== "") finished.add(current);
        current = name;
      }
      if (kind === "HELP") {
        assert.ok(!help.has(name), `second HELP for ${name}`);
        help.set(name, rest);
      } else {
        assert.ok(TYPES.has(rest), `TYPE ${rest} of ${name}`);
        assert.ok(!type.has(name), `second TYPE for ${name}`);
        assert.ok(
          !samples.some((s) => familyOf(s.name, type) === name),
          `TYPE of ${name} after its samples`,
        );
        type.set(name, rest);
      }
      continue;
    }
    const match = SAMPLE.exec(line);
    assert.ok(match !== null, `not a sample line: ${JSON.stringify(line)}`);
    const name = match[1];
    const labels: Record<string, string> = {};
    for (
      const [, key, value] of (match[2] ?? "").matchAll(new RegExp(LABEL, "g"))
    ) {
      assert.ok(!(key in labels), `label ${key} twice in ${line}`);
      labels[key] = value.replace(/\\(.)/g, (_, c) => c === "n" ? "\n" : c);
    }
    const raw = match.at(-1)!;
    const value = raw === "+Inf"
      ? Infinity
      : raw === "-Inf"
      ? -Infinity
      : Number(raw);
    const family = familyOf(name, type);
    assert.equal(family, current, `${name} outside its family's block`);
    assert.ok(help.has(family), `sample ${name} without HELP`);
    assert.ok(type.has(family), `sample ${name} without TYPE`);
    samples.push({ name, labels, value });
  }
  return { help, type, samples };
}

export function value(
  exposition: Exposition,
  name: string,
  labels: Record<string, string> = {},
): number {
  const found = exposition.samples.filter((s) =>
    s.name === name &&
    JSON.stringify(Object.entries(s.labels).sort()) ===
      JSON.stringify(Object.entries(labels).sort())
  );
  assert.equal(found.length, 1, `${name} ${JSON.stringify(labels)}`);
  return found[0].value;
}
