// Package d365 is a connector.ERP for Microsoft Dynamics 365 Finance &
// Operations over its OData v4 data entities.
package d365
