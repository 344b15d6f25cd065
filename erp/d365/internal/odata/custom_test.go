package odata_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/erp/d365/internal/odata"
)

func TestIsCustom(t *testing.T) {
	for name, want := range map[string]bool{
		"CostCentre_Custom": true, "A_B": true, "Dock_Date_Contoso": true,
		"SalesOrderPoolId": false, "dataAreaId": false, "DSyncOrderVersion": false,
		"_Custom": false, "CostCentre_": false, "@odata_etag": false, "": false,
	} {
		assert.Equal(t, want, odata.IsCustom(name), name)
	}
}

// TestCustomFields checks that a header and its lines keep the custom
// fields no field holds, drop other unknown properties, and write the
// custom fields back.
func TestCustomFields(t *testing.T) {
	in := `{"dataAreaId":"usmf","SalesOrderNumber":"SO-1","SalesOrderPoolId":"P1","CostCentre_Custom":"CC-1","Dock_Date_Contoso":null,` +
		`"SalesOrderLines":[{"dataAreaId":"usmf","DSyncLineId":"L1","Gift_Custom":"Yes"},{"dataAreaId":"usmf","DSyncLineId":"L_2"}]}`
	var h odata.SalesOrderHeader
	require.NoError(t, odata.Unmarshal([]byte(in), &h))
	assert.Equal(t, map[string]json.RawMessage{"CostCentre_Custom": json.RawMessage(`"CC-1"`), "Dock_Date_Contoso": json.RawMessage(`null`)}, h.Custom, "header")
	require.Len(t, h.Lines, 2)
	assert.Equal(t, map[string]json.RawMessage{"Gift_Custom": json.RawMessage(`"Yes"`)}, h.Lines[0].Custom, "first line")
	assert.Nil(t, h.Lines[1].Custom, "an underscore in a value is no custom field")
	assert.Equal(t, "L_2", h.Lines[1].LineID)

	out, err := odata.Marshal(h)
	require.NoError(t, err)
	var back map[string]any
	require.NoError(t, json.Unmarshal(out, &back))
	assert.Equal(t, "CC-1", back["CostCentre_Custom"], "header field written back")
	assert.Contains(t, back, "Dock_Date_Contoso")
	assert.NotContains(t, back, "SalesOrderPoolId", "an unknown standard property is not kept")
	assert.Equal(t, "Yes", back["SalesOrderLines"].([]any)[0].(map[string]any)["Gift_Custom"], "line field written back")
}
