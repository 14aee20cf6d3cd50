/*-------------------------------------------------------------------------
 *
 * chart.ts
 *	  latest.svg: a grouped bar chart of ns/op per workload variant, one
 *	  bar per allocator, on a log scale. A Vega spec rendered headless.
 *
 *-------------------------------------------------------------------------
 */

import * as vega from "vega";
import type { BenchResults } from "./report.js";

interface Datum {
  variant: string;
  allocator: string;
  ns: number;
}

/** The Vega spec of the chart. */
export function chartSpec(r: BenchResults): vega.Spec {
  const values: Datum[] = [];
  const variants: string[] = [];
  for (const c of r.cells) {
    const v = `${c.workload} ${c.variant}`;
    if (!variants.includes(v)) variants.push(v);
    if (c.status === "ok" && c.nsPerOp !== undefined) {
      values.push({ variant: v, allocator: c.allocator, ns: c.nsPerOp.median });
    }
  }
  const present = r.allocators
    .map((a) => a.label)
    .filter((l) => values.some((d) => d.allocator === l));
  const min = Math.min(...values.map((d) => d.ns), 1);
  const max = Math.max(...values.map((d) => d.ns), 10);
  return {
    $schema: "https://vega.github.io/schema/vega/v6.json",
    width: Math.max(600, variants.length * (present.length * 9 + 14)),
    height: 420,
    padding: 8,
    background: "white",
    title: {
      text: "mmgr bench: ns per operation (median, log scale; lower is better)",
      subtitle: `${r.meta.quick ? "quick run, " : ""}Node ${r.meta.node}, ${r.meta.cpu}, ${r.meta.date.slice(0, 10)}`,
    },
    data: [{ name: "cells", values }],
    scales: [
      { name: "x", type: "band", domain: variants, range: "width", padding: 0.12 },
      {
        name: "y",
        type: "log",
        domain: [10 ** Math.floor(Math.log10(min)), 10 ** Math.ceil(Math.log10(max))],
        range: "height",
        nice: true,
      },
      { name: "color", type: "ordinal", domain: present, range: "category" },
    ],
    axes: [
      {
        orient: "bottom",
        scale: "x",
        labelAngle: -40,
        labelAlign: "right",
        labelBaseline: "middle",
      },
      { orient: "left", scale: "y", grid: true, title: "ns per operation" },
    ],
    legends: [{ fill: "color", title: "allocator", orient: "right" }],
    marks: [
      {
        type: "group",
        from: { facet: { data: "cells", name: "facet", groupby: "variant" } },
        encode: {
          enter: {
            x: { scale: "x", field: "variant" },
            width: { scale: "x", band: 1 },
            height: { signal: "height" },
          },
        },
        signals: [{ name: "width", update: "bandwidth('x')" }],
        scales: [{ name: "pos", type: "band", domain: present, range: "width" }],
        marks: [
          {
            type: "rect",
            from: { data: "facet" },
            encode: {
              enter: {
                x: { scale: "pos", field: "allocator" },
                width: { scale: "pos", band: 1 },
                y: { scale: "y", field: "ns" },
                y2: { field: { group: "height" } },
                fill: { scale: "color", field: "allocator" },
                tooltip: { signal: "datum.allocator + ': ' + format(datum.ns, '.3s') + ' ns/op'" },
              },
            },
          },
        ],
      },
    ],
  };
}

/** Renders the chart to an SVG string, headless. */
export async function renderChart(r: BenchResults): Promise<string> {
  const view = new vega.View(vega.parse(chartSpec(r)), { renderer: "none" });
  const svg = await view.toSVG();
  view.finalize();
  return svg;
}
