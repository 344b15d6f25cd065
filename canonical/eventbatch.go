package canonical

// ValidateEvents validates events in order, as [Event.Validate] validates
// each, and returns the index of the first invalid event with the error
// Validate returns for it, or -1 and nil when every event is valid.
//
// It is for batches, whose events often share their source, dataschema
// and datacontenttype: an attribute whose text is that of the previous
// event, which passed every check, is not checked again. Those checks
// depend on the attribute's text alone, so the outcome is Validate's.
func ValidateEvents(events []Event) (int, error) {
	var prev *Event // the previous event, valid
	for i := range events {
		e := &events[i]
		var skip eventAttr
		if prev != nil {
			if e.Source == prev.Source {
				skip |= eventAttrSource
			}
			if e.DataSchema == prev.DataSchema {
				skip |= eventAttrDataSchema
			}
			if e.DataContentType == prev.DataContentType {
				skip |= eventAttrDataContentType
			}
		}
		v := violations{kind: "event"}
		e.validate(&v, skip)
		if err := v.err(); err != nil {
			return i, err
		}
		prev = e
	}
	return -1, nil
}
