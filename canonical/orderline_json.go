package canonical

import (
	"encoding/json"

	"github.com/distsync/distsync/internal/jsonfast"
)

// orderLineJSON is OrderLine without its UnmarshalJSON method: the general
// decoding path.
type orderLineJSON OrderLine

// UnmarshalJSON decodes an order line. Lines in the form distsync encodes
// them (known keys once each, strings without escapes, amounts as strings)
// take a fast path; anything else, including every malformed input, is
// decoded by encoding/json exactly as if the method did not exist, so the
// result and the errors are the same either way.
func (l *OrderLine) UnmarshalJSON(data []byte) error {
	var fast OrderLine
	r := jsonfast.NewReader(data)
	if readOrderLine(&r, &fast) && r.End() {
		*l = fast
		return nil
	}
	return json.Unmarshal(data, (*orderLineJSON)(l))
}
