import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from "@/components/ui/table";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { useState } from "react";

// The seller's buy list from chat_ui/tracking_render.py `buy_list_props` (props.rows): today's
// price, profit and gating beside the profit when added, and the row's state. "Bought" opens
// the purchase form, "Remove" takes the row off (chat_ui/tracking_actions.py).
export default function BuyList() {
  const rows = props.rows || [];
  const [removed, setRemoved] = useState({});
  const money = (v) => (v === null || v === undefined ? "–" : "$" + Number(v).toFixed(2));
  const pct = (v) => (v === null || v === undefined ? "–" : Number(v).toFixed(0) + "%");
  const https = (u) => (typeof u === "string" && /^https:\/\/[^\s/]/i.test(u.trim()) ? u.trim() : null);
  const state = (r) => {
    if (r.state === "worse") return <Badge variant="destructive">worse</Badge>;
    if (r.state === "gone") return <Badge variant="destructive">gone</Badge>;
    if (r.state === "better") return <Badge variant="secondary">better</Badge>;
    if (r.state === "unknown") return <Badge variant="outline">not analysed</Badge>;
    return <Badge variant="secondary">ok</Badge>;
  };
  const remove = async (asin) => {
    setRemoved((x) => ({ ...x, [asin]: true }));
    try {
      await callAction({ name: "buy_list_remove", payload: { asin } });
    } catch (e) {
      setRemoved((x) => ({ ...x, [asin]: false }));
    }
  };
  const shown = rows.filter((r) => !removed[r.asin]);
  if (!shown.length) {
    return <div className="text-sm text-muted-foreground">Your buy list is empty.</div>;
  }
  return (
    <div className="w-full overflow-x-auto" id="buy-list">
      <Table>
        <TableHeader>
          <TableRow>
            <TableHead>Title</TableHead>
            <TableHead className="text-right">Price now</TableHead>
            <TableHead className="text-right">Profit now</TableHead>
            <TableHead className="text-right">When added</TableHead>
            <TableHead className="text-right">ROI</TableHead>
            <TableHead>Gated</TableHead>
            <TableHead>State</TableHead>
            <TableHead></TableHead>
          </TableRow>
        </TableHeader>
        <TableBody>
          {shown.map((r) => (
            <TableRow key={r.asin}>
              <TableCell style={{ minWidth: "10rem", maxWidth: "16rem", whiteSpace: "normal" }}>
                <div title={r.title}>{r.title || r.asin}</div>
                <div className="text-xs text-muted-foreground whitespace-nowrap">
                  {r.asin}
                  {https(r.amazon_url) ? (
                    <span>
                      {" · "}
                      <a href={https(r.amazon_url)} target="_blank" rel="noopener noreferrer" className="underline">Amazon</a>
                    </span>
                  ) : null}
                </div>
                {r.why ? <div className="text-xs text-muted-foreground">{r.why}</div> : null}
              </TableCell>
              <TableCell className="text-right whitespace-nowrap">{money(r.price_now)}</TableCell>
              <TableCell className="text-right whitespace-nowrap font-medium">{money(r.profit)}</TableCell>
              <TableCell className="text-right whitespace-nowrap">{money(r.profit_at_add)}</TableCell>
              <TableCell className="text-right whitespace-nowrap">{pct(r.roi)}</TableCell>
              <TableCell className="whitespace-nowrap">
                {r.gated === "restricted" ? <Badge variant="destructive">gated</Badge> : r.gated === "not_restricted" ? <Badge variant="secondary">ok to sell</Badge> : <Badge variant="outline">unchecked</Badge>}
              </TableCell>
              <TableCell className="whitespace-nowrap">{state(r)}</TableCell>
              <TableCell className="whitespace-nowrap">
                <Button size="sm" variant="outline" id={"bought-" + r.asin}
                  onClick={() => callAction({ name: "purchase_form", payload: { asin: r.asin, condition: r.condition } })}>
                  Bought
                </Button>{" "}
                <Button size="sm" variant="ghost" id={"remove-" + r.asin} onClick={() => remove(r.asin)}>
                  Remove
                </Button>
              </TableCell>
            </TableRow>
          ))}
        </TableBody>
      </Table>
    </div>
  );
}
