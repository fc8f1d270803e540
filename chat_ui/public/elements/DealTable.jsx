import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from "@/components/ui/table";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { useState } from "react";

// Deal list rendered from chat_ui/render.py `deal_table_props` (props.rows, props.columns).
// Profit and ROI show the server's texts (roi_text, profit_text): the same rounding as the
// answer's prose, so the row and the sentence above it never disagree.
// The Amazon and Keepa links sit under the title, in the first column, so a narrow chat
// (phone, open sidebar) never cuts them off; the numbers scroll sideways if they must.
// Sizes are inline styles: only the Tailwind classes Chainlit's own bundle uses exist here.
// "+ Buy list" on a row calls the chat's buy_list_add action (chat_ui/tracking_actions.py),
// which adds the deal for the signed-in seller and says so in the chat.
export default function DealTable() {
  const rows = props.rows || [];
  const [added, setAdded] = useState({});
  const addToBuyList = async (asin) => {
    setAdded((a) => ({ ...a, [asin]: "adding" }));
    try {
      await callAction({ name: "buy_list_add", payload: { asin } });
      setAdded((a) => ({ ...a, [asin]: "added" }));
    } catch (e) {
      setAdded((a) => ({ ...a, [asin]: undefined }));
    }
  };
  const money = (v) => (v === null || v === undefined ? "–" : "$" + Number(v).toFixed(2));
  const pct = (v) => (v === null || v === undefined ? "–" : Number(v).toFixed(0) + "%");
  const num = (v) => (v === null || v === undefined ? "–" : Number(v).toLocaleString("en-US"));
  // Only https links are rendered: props could carry a javascript: or data: URL otherwise.
  const https = (u) => (typeof u === "string" && /^https:\/\/[^\s/]/i.test(u.trim()) ? u.trim() : null);
  const link = (u, label) => {
    const href = https(u);
    return href
      ? <a href={href} target="_blank" rel="noopener noreferrer" className="underline">{label}</a>
      : <span>{label}</span>;
  };
  const gated = (g) => {
    if (g === "restricted") return <Badge variant="destructive">gated</Badge>;
    if (g === "ok") return <Badge variant="secondary">ok to sell</Badge>;
    if (g === "error") return <Badge variant="outline">check failed</Badge>;
    return <Badge variant="outline">unchecked</Badge>;
  };
  if (!rows.length) {
    return <div className="text-sm text-muted-foreground">No deals match.</div>;
  }
  return (
    <div className="w-full overflow-x-auto" id="deal-table">
      <Table>
        <TableHeader>
          <TableRow>
            <TableHead>Title</TableHead>
            <TableHead className="text-right">Price now</TableHead>
            <TableHead className="text-right">List at</TableHead>
            <TableHead className="text-right">Profit</TableHead>
            <TableHead className="text-right">ROI</TableHead>
            <TableHead className="text-right">Rank</TableHead>
            <TableHead className="text-right">Drops 90d</TableHead>
            <TableHead>Gated</TableHead>
            <TableHead></TableHead>
          </TableRow>
        </TableHeader>
        <TableBody>
          {rows.map((r) => (
            <TableRow key={r.asin}>
              <TableCell style={{ minWidth: "10rem", maxWidth: "16rem", whiteSpace: "normal" }}>
                <div title={r.title}>{r.title || r.asin}</div>
                <div className="text-xs text-muted-foreground whitespace-nowrap">
                  {r.asin} ·{" "}
                  {link(r.amazon_url, "Amazon")}
                  {" · "}
                  {link(r.keepa_url, "Keepa")}
                </div>
              </TableCell>
              <TableCell className="text-right whitespace-nowrap">{money(r.price_now)}</TableCell>
              <TableCell className="text-right whitespace-nowrap">{money(r.list_at)}</TableCell>
              <TableCell className="text-right whitespace-nowrap font-medium">{r.profit_text || money(r.profit)}</TableCell>
              <TableCell className="text-right whitespace-nowrap">{r.roi_text || pct(r.roi)}</TableCell>
              <TableCell className="text-right whitespace-nowrap">{num(r.sales_rank)}</TableCell>
              <TableCell className="text-right whitespace-nowrap">{num(r.drops)}</TableCell>
              <TableCell className="whitespace-nowrap">{gated(r.gated)}</TableCell>
              <TableCell className="whitespace-nowrap">
                <Button
                  size="sm"
                  variant="outline"
                  id={"buy-list-add-" + r.asin}
                  disabled={!!added[r.asin]}
                  onClick={() => addToBuyList(r.asin)}
                >
                  {added[r.asin] === "added" ? "On buy list" : "+ Buy list"}
                </Button>
              </TableCell>
            </TableRow>
          ))}
        </TableBody>
      </Table>
    </div>
  );
}
