import { Button } from "@/components/ui/button";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { useState } from "react";

// The purchase form (chat_ui/tracking_actions.py asks for it with AskElementMessage): what the
// seller paid and how many, the condition, the date, an optional SKU and order number. The
// server validates every field again (tools/tracking/purchases.py); this only helps typing.
export default function PurchaseForm() {
  const [v, setV] = useState({
    quantity: props.quantity || 1,
    unit_cost: props.unit_cost || "",
    condition: props.condition || "used_very_good",
    purchased_on: props.today || "",
    sku: "",
    order_number: "",
  });
  const set = (k) => (e) => setV({ ...v, [k]: e.target.value });
  const conditions = props.conditions || [];
  const ok = Number(v.quantity) >= 1 && v.unit_cost !== "" && Number(v.unit_cost) >= 0;
  return (
    <div className="flex flex-col gap-2" id="purchase-form" style={{ maxWidth: "28rem" }}>
      <div className="text-sm font-medium">{props.title || props.asin} ({props.asin})</div>
      <div className="flex gap-2">
        <div className="flex flex-col gap-1" style={{ width: "6rem" }}>
          <Label htmlFor="pf-qty">Quantity</Label>
          <Input id="pf-qty" type="number" min="1" max="10000" value={v.quantity} onChange={set("quantity")} />
        </div>
        <div className="flex flex-col gap-1" style={{ width: "8rem" }}>
          <Label htmlFor="pf-cost">Unit cost ($)</Label>
          <Input id="pf-cost" type="number" min="0" step="0.01" value={v.unit_cost} onChange={set("unit_cost")} />
        </div>
        <div className="flex flex-col gap-1" style={{ width: "10rem" }}>
          <Label htmlFor="pf-date">Date</Label>
          <Input id="pf-date" type="date" value={v.purchased_on} onChange={set("purchased_on")} />
        </div>
      </div>
      <div className="flex flex-col gap-1">
        <Label htmlFor="pf-cond">Condition</Label>
        <select id="pf-cond" className="border rounded-md p-2 text-sm bg-background" value={v.condition} onChange={set("condition")}>
          {conditions.map((c) => (
            <option key={c.value} value={c.value}>{c.label}</option>
          ))}
        </select>
      </div>
      <div className="flex gap-2">
        <div className="flex flex-col gap-1 flex-grow">
          <Label htmlFor="pf-sku">SKU (optional)</Label>
          <Input id="pf-sku" maxLength={40} value={v.sku} onChange={set("sku")} />
        </div>
        <div className="flex flex-col gap-1 flex-grow">
          <Label htmlFor="pf-order">Order number (optional)</Label>
          <Input id="pf-order" maxLength={64} value={v.order_number} onChange={set("order_number")} />
        </div>
      </div>
      <div className="flex gap-2">
        <Button id="pf-save" disabled={!ok} onClick={() => submitElement(v)}>Record purchase</Button>
        <Button id="pf-cancel" variant="outline" onClick={() => cancelElement()}>Cancel</Button>
      </div>
    </div>
  );
}
