package sfemu_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/crm"
	"github.com/distsync/distsync/crm/salesforce/sfemu"
)

func TestCustomFieldsConfig(t *testing.T) {
	sim, err := crm.New(crm.Config{})
	require.NoError(t, err)
	for _, c := range []struct {
		fields []sfemu.CustomField
		want   string // "" when valid
	}{
		{[]sfemu.CustomField{{Object: "Order", Name: "Cost_Centre__c"}, {Object: "OrderItem", Name: "Cost_Centre__c", Extension: "crm:x"}}, ""},
		{[]sfemu.CustomField{{Object: "Account", Name: "X__c"}}, "Object"},
		{[]sfemu.CustomField{{Object: "Order", Name: "Cost_Centre"}}, "ending in __c"},
		{[]sfemu.CustomField{{Object: "Order", Name: "Bad Name__c"}}, "ending in __c"},
		{[]sfemu.CustomField{{Object: "Order", Name: "DistSync_Status__c"}}, "standard field"},
		{[]sfemu.CustomField{{Object: "Order", Name: "X__c"}, {Object: "Order", Name: "x__c"}}, "declared twice"},
	} {
		_, err := sfemu.New(sfemu.Config{CRM: sim, ClientID: "a", ClientSecret: "b", CustomFields: c.fields})
		if c.want == "" {
			assert.NoError(t, err, "%+v", c.fields)
			continue
		}
		require.ErrorIs(t, err, sfemu.ErrInvalidConfig, "%+v", c.fields)
		assert.Contains(t, err.Error(), c.want, "%+v", c.fields)
	}
}
