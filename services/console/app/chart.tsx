/** A stacked bar chart of scans per day (SVG, no library): one bar a day, one colour per region or intent. */
const COLOURS = ["#1f4fbf", "#d9480f", "#2b8a3e", "#9c36b5", "#e8590c", "#0b7285", "#5c940d", "#c2255c"]

export interface DailyCount {
  readonly day: string
  readonly regionCode: string
  readonly intent: string
  readonly count: number
}

export const ScanChart = ({
  daily,
  by,
  days
}: {
  readonly daily: ReadonlyArray<DailyCount>
  readonly by: "regionCode" | "intent"
  readonly days: number
}) => {
  const dayList: Array<string> = []
  const today = new Date()
  for (let i = days - 1; i >= 0; i--)
    dayList.push(new Date(today.getTime() - i * 86_400_000).toISOString().slice(0, 10))
  const series = [...new Set(daily.map((d) => d[by]))].sort()
  const totals = new Map<string, number>()
  for (const d of daily) totals.set(d.day, (totals.get(d.day) ?? 0) + d.count)
  const max = Math.max(1, ...totals.values())
  const W = 640
  const H = 220
  const left = 34
  const bottom = 24
  const barW = (W - left - 8) / dayList.length
  const y = (n: number) => ((H - bottom - 8) * n) / max
  const label = `Scans per day over the last ${days} days, by ${by === "regionCode" ? "region" : "intent"}: ${
    daily.length === 0
      ? "no scans"
      : series.map((s) => `${s} ${daily.filter((d) => d[by] === s).reduce((n, d) => n + d.count, 0)}`).join(", ")
  }`
  return (
    <figure style={{ margin: 0 }}>
      <svg className="chart" viewBox={`0 0 ${W} ${H}`} role="img" aria-label={label} data-testid="scan-chart">
        <line x1={left} y1={H - bottom} x2={W - 4} y2={H - bottom} stroke="#9aa5b1" />
        <text x={left - 6} y={12} fontSize="11" textAnchor="end" fill="#5b6773">
          {max}
        </text>
        <text x={left - 6} y={H - bottom} fontSize="11" textAnchor="end" fill="#5b6773">
          0
        </text>
        {dayList.map((day, i) => {
          let acc = 0
          return (
            <g key={day}>
              {series.map((s, si) => {
                const n = daily.filter((d) => d.day === day && d[by] === s).reduce((m, d) => m + d.count, 0)
                if (n === 0) return null
                const h = y(n)
                acc += h
                return (
                  <rect
                    key={s}
                    data-series={s}
                    x={left + i * barW + 1}
                    y={H - bottom - acc}
                    width={Math.max(1, barW - 2)}
                    height={h}
                    fill={COLOURS[si % COLOURS.length]}
                  >
                    <title>{`${day} · ${s}: ${n}`}</title>
                  </rect>
                )
              })}
              {i % Math.ceil(dayList.length / 6) === 0 ? (
                <text x={left + i * barW} y={H - 6} fontSize="11" fill="#5b6773">
                  {day.slice(5)}
                </text>
              ) : null}
            </g>
          )
        })}
      </svg>
      <figcaption className="legend">
        {series.length === 0 ? (
          <span className="muted">no scans in this period</span>
        ) : (
          series.map((s, si) => (
            <span key={s}>
              <svg width="10" height="10" aria-hidden="true">
                <rect width="10" height="10" rx="2" fill={COLOURS[si % COLOURS.length]} />
              </svg>{" "}
              {s}
            </span>
          ))
        )}
      </figcaption>
    </figure>
  )
}
