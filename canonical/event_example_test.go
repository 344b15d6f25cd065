package canonical_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/distsync/distsync/canonical"
)

// eventExampleOrder stands in for canonical's Order document in these
// examples: any type implementing Document travels the same way.
type eventExampleOrder struct {
	ID       string `json:"id"`
	Customer string `json:"customer"`
}

func (eventExampleOrder) DocumentKind() string { return canonical.KindOrder }

func (o eventExampleOrder) Validate() error {
	if o.ID == "" {
		return &canonical.ValidationError{Kind: "order", Errors: []canonical.FieldError{{Field: "id", Message: "is required"}}}
	}
	return nil
}

func ExampleNewEvent() {
	e, err := canonical.NewEvent(canonical.EventOrderAccepted, eventExampleOrder{ID: "SO-1001", Customer: "C-42"})
	if err != nil {
		fmt.Println(err)
		return
	}
	e.ID = "evt-7"
	e.Source = "urn:distsync:erp"
	e.Subject = "SO-1001"
	e.Time = time.Date(2026, 11, 27, 21, 7, 0, 0, time.UTC)
	e.CorrelationID = "corr-SO-1001"
	e.Sequence = 3

	b, err := json.Marshal(e)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(string(b))
	fmt.Println("dedupe key:", e.Key())
	fmt.Println("partition:", e.Partition())
	// Output:
	// {"specversion":"1.0","id":"evt-7","source":"urn:distsync:erp","type":"distsync.order.accepted.v1","subject":"SO-1001","time":"2026-11-27T21:07:00Z","datacontenttype":"application/json","correlationid":"corr-SO-1001","subjectseq":"00000000000000000003","data":{"id":"SO-1001","customer":"C-42"}}
	// dedupe key: urn:distsync:erp evt-7
	// partition: SO-1001
}

func ExampleDecodeData() {
	const wire = `{"specversion":"1.0","id":"evt-7","source":"urn:distsync:erp",
		"type":"distsync.order.accepted.v1","subject":"SO-1001",
		"data":{"id":"SO-1001","customer":"C-42"}}`

	var e canonical.Event
	if err := json.Unmarshal([]byte(wire), &e); err != nil {
		fmt.Println(err)
		return
	}
	order, err := canonical.DecodeData[eventExampleOrder](e)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(e.Type, order.ID, order.Customer)

	// Asking for another document than the type carries fails clearly.
	e.Type = canonical.EventOrderValidated
	_, err = canonical.DecodeData[eventExampleOrder](e)
	fmt.Println(errors.Is(err, canonical.ErrEventType), err)
	// Output:
	// distsync.order.accepted.v1 SO-1001 C-42
	// true canonical: event type "distsync.order.validated.v1" carries order_ack, not order
}

func ExampleEvent_UnmarshalJSON() {
	const wire = `{"specversion":"1.0","id":"","source":"urn:distsync:wms","type":"distsync.fulfillment.picked.v1",
		"subjectseq":"42","X-Tenant":"acme","data":{},"data_base64":"AA=="}`

	var e canonical.Event
	err := json.Unmarshal([]byte(wire), &e)
	var ve *canonical.ValidationError
	if errors.As(err, &ve) {
		for _, fe := range ve.Errors {
			fmt.Println(fe)
		}
	}
	// Output:
	// id: must not be empty when present
	// subjectseq: must be exactly 20 decimal digits, zero-padded (such as "00000000000000000042")
	// X-Tenant: extension attribute name must consist of lowercase letters a-z and digits 0-9 only
	// data: must not be present together with data_base64
}

func ExampleEventKind() {
	for _, t := range []canonical.EventType{canonical.EventOrderValidated, canonical.EventReturnCredited, "com.example.other.v1"} {
		kind, ok := canonical.EventKind(t)
		fmt.Printf("%s: %q %v\n", t, kind, ok)
	}
	// Output:
	// distsync.order.validated.v1: "order_ack" true
	// distsync.return.credited.v1: "invoice" true
	// com.example.other.v1: "" false
}
