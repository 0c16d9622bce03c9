import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';

// A time-series line chart with uPlot (canvas, about 20 KB gzip, loaded with the views that
// chart). It draws; the numbers themselves are in a table or a summary next to it, so the canvas
// is hidden from assistive technology and the figure carries a text alternative.

export interface ChartSeries {
  label: string;
  values: (number | null)[];
  /** Drawn dashed (a previous period, say). */
  dashed?: boolean;
}

// Line colours with at least 3:1 contrast on white (WCAG 1.4.11), told apart by dash as well.
const COLORS = ['#1d4ed8', '#b45309', '#047857', '#7c3aed', '#be123c', '#0e7490'];

const INTEGER_STEPS = [1, 2, 5].flatMap((m) => [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8].map((p) => m * p)).sort((a, b) => a - b);

export function TimeChart(props: {
  title: string;
  /** What the chart shows, in words (its text alternative). */
  summary: string;
  /** Bucket starts, epoch seconds. */
  x: number[];
  series: ChartSeries[];
  tz: string;
  height?: number;
  format?: (n: number) => string;
  /** Counts: ticks at whole numbers only. */
  integer?: boolean;
}) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const fmt = props.format ?? ((n: number) => n.toLocaleString());
    const plot = new uPlot(
      {
        width: Math.max(200, el.clientWidth),
        height: props.height ?? 220,
        legend: { show: false },
        cursor: { drag: { x: false, y: false } },
        tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), props.tz),
        scales: { y: { range: (_u, min, max) => [Math.min(0, min), max > 0 ? max * 1.1 : 1] } },
        axes: [
          { stroke: '#374151', grid: { stroke: '#e5e7eb' }, ticks: { stroke: '#9ca3af' } },
          { stroke: '#374151', grid: { stroke: '#e5e7eb' }, ticks: { stroke: '#9ca3af' }, size: 60, values: (_u, ticks) => ticks.map(fmt), ...(props.integer ? { incrs: INTEGER_STEPS } : {}) },
        ],
        series: [
          {},
          ...props.series.map((s, i) => ({
            label: s.label,
            stroke: s.dashed ? '#6b7280' : COLORS[i % COLORS.length],
            width: 2,
            dash: s.dashed ? [6, 4] : undefined,
            points: { show: props.x.length <= 60 },
          })),
        ],
      },
      [props.x, ...props.series.map((s) => s.values)] as uPlot.AlignedData,
      el,
    );
    const resize = new ResizeObserver(() => plot.setSize({ width: Math.max(200, el.clientWidth), height: props.height ?? 220 }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [props.x, props.series, props.tz]);

  return (
    <figure class="chart">
      <figcaption>{props.title}</figcaption>
      <ul class="legend" aria-hidden="true">
        {props.series.map((s, i) => (
          <li>
            <span class={`swatch${s.dashed ? ' dashed' : ''}`} style={{ borderColor: s.dashed ? '#6b7280' : COLORS[i % COLORS.length] }} />
            {s.label}
          </li>
        ))}
      </ul>
      <div ref={box} class="chart-canvas" role="img" aria-label={props.summary} />
    </figure>
  );
}
