// Package codec says which of canonical's types get generated JSON
// encoders and decoders (codec_gen.go in canonical) and generates them with
// internal/jsongen. Run go generate in canonical after changing a
// document; TestCodecGenerated fails while the checked-in file is not
// current.
package codec

import (
	"reflect"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/internal/jsongen"
)

// Config is the generator's input: the documents canonical encodes
// without reflection, and the values it writes by hand.
func Config() jsongen.Config {
	return jsongen.Config{
		Package:   "canonical",
		Generator: "canonical/internal/codec/gen",
		Encoder:   "orderEncoder",
		Roots: []reflect.Type{
			reflect.TypeFor[canonical.Order](),
			reflect.TypeFor[canonical.Invoice](),
			reflect.TypeFor[canonical.FulfillmentOrder](),
			reflect.TypeFor[canonical.AllocationUpdate](),
			reflect.TypeFor[canonical.Shipment](),
			reflect.TypeFor[canonical.InventoryAdjustment](),
			reflect.TypeFor[canonical.InventoryPosition](),
		},
		Values: map[reflect.Type]string{
			reflect.TypeFor[canonical.Decimal]():           "decimalValue",
			reflect.TypeFor[canonical.Extensions]():        "extensionsValue",
			reflect.TypeFor[canonical.Buckets]():           "bucketsValue",
			reflect.TypeFor[canonical.QuantityEventKind](): "quantityKindValue",
		},
		Strings: []reflect.Type{
			reflect.TypeFor[canonical.Currency](),
			reflect.TypeFor[canonical.Unit](),
			reflect.TypeFor[canonical.GTIN](),
			reflect.TypeFor[canonical.SSCC](),
		},
		Decoders: map[reflect.Type]string{
			reflect.TypeFor[canonical.Order]():               "decodeOrderFast",
			reflect.TypeFor[canonical.FulfillmentOrder]():    "decodeFulfillmentOrderFast",
			reflect.TypeFor[canonical.AllocationUpdate]():    "decodeAllocationFast",
			reflect.TypeFor[canonical.Shipment]():            "decodeShipmentFast",
			reflect.TypeFor[canonical.InventoryAdjustment](): "decodeAdjustmentFast",
			reflect.TypeFor[canonical.InventoryPosition]():   "decodePositionFast",
			reflect.TypeFor[canonical.Invoice]():             "decodeInvoiceFast",
		},
		Readers: map[reflect.Type]string{
			reflect.TypeFor[canonical.Decimal]():           "readDecimal",
			reflect.TypeFor[canonical.Currency]():          "readCurrency",
			reflect.TypeFor[canonical.Unit]():              "readUnit",
			reflect.TypeFor[canonical.GTIN]():              "readGTIN",
			reflect.TypeFor[canonical.SSCC]():              "readSSCC",
			reflect.TypeFor[canonical.Buckets]():           "readBuckets",
			reflect.TypeFor[canonical.Extensions]():        "readExtensions",
			reflect.TypeFor[canonical.QuantityEventKind](): "readQuantityKind",
		},
		// OrderLine's UnmarshalJSON is its generated reader, then
		// encoding/json.
		Fields: []reflect.Type{reflect.TypeFor[canonical.OrderLine]()},
	}
}

// Generate returns the source of codec_gen.go.
func Generate() ([]byte, error) { return jsongen.Generate(Config()) }
