// Package fleet is a traffic.Router over every ready replica of ferry's embedded
// proxy behind one Service, found through the Service's EndpointSlices and driven
// through each replica's admin API. It must not import internal/migrate or other
// routers.
package fleet
