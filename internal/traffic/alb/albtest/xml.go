package albtest

import (
	"encoding/xml"
	"strconv"
)

// The documented Elastic Load Balancing v2 query API shapes (version 2015-12-01) this
// server writes.

const (
	version   = "2015-12-01"
	xmlns     = "http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"
	requestID = "7f7ec7c7-0c64-4a0e-8f6b-1a2b3c4d5e6f"
)

type describeTargetHealthResponse struct {
	XMLName xml.Name `xml:"DescribeTargetHealthResponse"`
	Xmlns   string   `xml:"xmlns,attr"`
	Result  struct {
		Descriptions []targetHealthDescription `xml:"TargetHealthDescriptions>member"`
	} `xml:"DescribeTargetHealthResult"`
	RequestID string `xml:"ResponseMetadata>RequestId"`
}

type targetHealthDescription struct {
	Target struct {
		ID   string `xml:"Id"`
		Port int    `xml:"Port,omitempty"`
	} `xml:"Target"`
	HealthCheckPort string `xml:"HealthCheckPort,omitempty"`
	TargetHealth    struct {
		State       string `xml:"State"`
		Reason      string `xml:"Reason,omitempty"`
		Description string `xml:"Description,omitempty"`
	} `xml:"TargetHealth"`
	AdministrativeOverride struct {
		State       string `xml:"State"`
		Reason      string `xml:"Reason"`
		Description string `xml:"Description"`
	} `xml:"AdministrativeOverride"`
}

// describe returns a target as DescribeTargetHealth describes it.
func describe(t Target) targetHealthDescription {
	var d targetHealthDescription
	d.Target.ID, d.Target.Port = t.ID, t.Port
	if t.Port > 0 {
		d.HealthCheckPort = strconv.Itoa(t.Port)
	}
	d.TargetHealth.State, d.TargetHealth.Reason, d.TargetHealth.Description = t.State, t.Reason, t.Description
	o := &d.AdministrativeOverride
	o.State, o.Reason, o.Description = "no_override", "AdministrativeOverride.NoOverride", "No override is currently active on target"
	if t.Override != "" && t.Override != "no_override" {
		o.State, o.Reason, o.Description = t.Override, "AdministrativeOverride.ZonalShiftActive", "Target is in an Availability Zone that has a zonal shift active"
	}
	return d
}

type apiError struct {
	Type    string `xml:"Type"`
	Code    string `xml:"Code"`
	Message string `xml:"Message"`
}

type errorResponse struct {
	XMLName   xml.Name `xml:"ErrorResponse"`
	Xmlns     string   `xml:"xmlns,attr"`
	Error     apiError `xml:"Error"`
	RequestID string   `xml:"RequestId"`
}
