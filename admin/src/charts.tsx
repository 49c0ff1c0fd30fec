import { Bar, BarChart, CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';

/**
 * The panel's charts (recharts): a line or bar chart over time with one series per key. Each
 * chart is one figure with a text summary next to it (aria-label), so a screen reader gets the
 * numbers the picture shows.
 */

export interface Series {
  key: string;
  label: string;
  color: string;
}

const PALETTE = ['#2456d6', '#067647', '#b42318', '#a15c07', '#6941c6', '#0e7490', '#c11574', '#475467'];
export const colorOf = (index: number) => PALETTE[index % PALETTE.length];

export function TimeChart({
  data,
  x,
  series,
  kind = 'line',
  label,
  format = (v) => String(v),
  testId,
  daily = false,
}: {
  data: Record<string, number | string>[];
  x: string;
  series: Series[];
  kind?: 'line' | 'bar';
  label: string;
  format?: (value: number) => string;
  testId?: string;
  /** One point per day: the axis shows dates. */
  daily?: boolean;
}) {
  const tick = (value: string) => {
    const d = new Date(value);
    return Number.isNaN(d.getTime()) ? value : d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
  };
  const dayTick = (value: string) => {
    const d = new Date(value);
    return Number.isNaN(d.getTime()) ? value : d.toLocaleDateString(undefined, { month: 'short', day: 'numeric' });
  };
  const spansDays = daily || data.length > 1 && Date.parse(String(data[data.length - 1][x])) - Date.parse(String(data[0][x])) > 36 * 3_600_000;
  const common = (
    <>
      <CartesianGrid strokeDasharray="3 3" stroke="#dde1e8" />
      <XAxis dataKey={x} tickFormatter={spansDays ? dayTick : tick} minTickGap={24} fontSize={12} />
      <YAxis width={56} fontSize={12} tickFormatter={(v: number) => format(v)} allowDecimals={false} />
      <Tooltip labelFormatter={(v) => new Date(String(v)).toLocaleString()} formatter={(v) => format(Number(v))} />
      {series.length > 1 && <Legend />}
    </>
  );
  return (
    <figure className="chart" role="img" aria-label={label} data-testid={testId} style={{ margin: 0 }}>
      <ResponsiveContainer width="100%" height="100%">
        {kind === 'bar' ? (
          <BarChart data={data}>
            {common}
            {series.map((s) => (
              <Bar key={s.key} dataKey={s.key} name={s.label} fill={s.color} stackId="a" isAnimationActive={false} />
            ))}
          </BarChart>
        ) : (
          <LineChart data={data}>
            {common}
            {series.map((s) => (
              <Line key={s.key} type="monotone" dataKey={s.key} name={s.label} stroke={s.color} dot={false} strokeWidth={2} isAnimationActive={false} />
            ))}
          </LineChart>
        )}
      </ResponsiveContainer>
    </figure>
  );
}
