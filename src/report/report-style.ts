// The report's stylesheet (inlined: the page loads nothing).
export const REPORT_CSS = `
body{font:14px/1.4 system-ui,sans-serif;margin:16px 24px;color:#222;background:#fff}
h1{font-size:20px;margin:0 0 8px}h2{font-size:16px;margin:20px 0 6px}
table.meta{border-collapse:collapse}table.meta th{text-align:left;font-weight:600;padding:1px 12px 1px 0;color:#555;vertical-align:top}
table.meta td{font-family:ui-monospace,monospace;word-break:break-all}
.hint,.none{color:#666;margin:2px 0}.warn{background:#fff3cd;padding:4px 8px}
.scroll{overflow-x:auto}
svg{display:block}svg text{font:10px ui-monospace,monospace;fill:#444}
.tl text.peer{font-weight:600;fill:#222}
.tick{fill:#777}.grid{stroke:#e6e6e6;stroke-width:1}.end{stroke:#555;stroke-width:1;stroke-dasharray:3 2}
.tl path[data-connection-id]{stroke-width:var(--lh);fill:none}
path[data-connection-id]{stroke:#2e9d4f}
.legend span{margin-right:14px;white-space:nowrap}.legend svg{display:inline-block;margin-right:4px;vertical-align:middle}
.legend path{stroke-width:5px;fill:none}
path.E{stroke:#2e9d4f}path.W{stroke:#d23b3b}path.F{stroke:#e08a1e}path.T{stroke:#8a8a8a}path.S{stroke:#3b7dd8}
path.p{stroke:url(#hE)}path.W.p{stroke:url(#hW)}path.F.p{stroke:url(#hF)}path.T.p{stroke:url(#hT)}path.S.p{stroke:url(#hS)}
path.b{stroke-width:1.5px!important}
path.x{stroke:#fff;stroke-width:1.5px;fill:none}
.band rect{fill:#999;opacity:.12}.band text{font-weight:600}
.band.k-reuse rect{fill:#2e9d4f}.band.k-churn rect{fill:#e08a1e}.band.k-close_wait rect,.band.k-growth rect{fill:#d23b3b}
ul.findings{padding-left:18px;margin:4px 0}li.finding{margin:4px 0;cursor:default}
li.finding b{font-family:ui-monospace,monospace}.span,.ids{color:#666}
li.k-close_wait b,li.k-growth b{color:#b22}li.k-churn b{color:#b60}li.k-reuse b{color:#27803f}
.chart .line{fill:none;stroke:#3b7dd8;stroke-width:1.5}.chart .open{fill:#2e9d4f}.chart .close{fill:#d23b3b}.chart .life{fill:#3b7dd8}
span.o{color:#2e9d4f}span.c{color:#d23b3b}
.tl.dim path[data-connection-id]{opacity:.15}.tl.dim path.hl{opacity:1}
#tip{position:fixed;pointer-events:none;background:#222;color:#fff;font:12px/1.35 ui-monospace,monospace;padding:6px 8px;border-radius:4px;white-space:pre;z-index:9}
`;
