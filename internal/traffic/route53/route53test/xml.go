package route53test

import "encoding/xml"

// The documented Route 53 REST XML shapes (API version 2013-04-01) this server reads
// and writes.

const xmlns = "https://route53.amazonaws.com/doc/2013-04-01/"

// RecordSet is one resource record set as the API carries it.
type RecordSet struct {
	Name          string   `xml:"Name"`
	Type          string   `xml:"Type"`
	SetIdentifier string   `xml:"SetIdentifier,omitempty"`
	Weight        *int64   `xml:"Weight,omitempty"`
	TTL           *int64   `xml:"TTL,omitempty"`
	Values        []string `xml:"ResourceRecords>ResourceRecord>Value"`
	Alias         *Alias   `xml:"AliasTarget,omitempty"`
	HealthCheckID string   `xml:"HealthCheckId,omitempty"`
}

// Alias is an alias target.
type Alias struct {
	HostedZoneID         string `xml:"HostedZoneId"`
	DNSName              string `xml:"DNSName"`
	EvaluateTargetHealth bool   `xml:"EvaluateTargetHealth"`
}

type changeRequest struct {
	XMLName xml.Name `xml:"ChangeResourceRecordSetsRequest"`
	Comment string   `xml:"ChangeBatch>Comment"`
	Changes []struct {
		Action string    `xml:"Action"`
		Set    RecordSet `xml:"ResourceRecordSet"`
	} `xml:"ChangeBatch>Changes>Change"`
}

type changeInfo struct {
	ID          string `xml:"Id"`
	Status      string `xml:"Status"`
	SubmittedAt string `xml:"SubmittedAt"`
	Comment     string `xml:"Comment,omitempty"`
}

type changeResponse struct {
	XMLName xml.Name   `xml:"ChangeResourceRecordSetsResponse"`
	Xmlns   string     `xml:"xmlns,attr"`
	Info    changeInfo `xml:"ChangeInfo"`
}

type getChangeResponse struct {
	XMLName xml.Name   `xml:"GetChangeResponse"`
	Xmlns   string     `xml:"xmlns,attr"`
	Info    changeInfo `xml:"ChangeInfo"`
}

type listResponse struct {
	XMLName              xml.Name    `xml:"ListResourceRecordSetsResponse"`
	Xmlns                string      `xml:"xmlns,attr"`
	Sets                 []RecordSet `xml:"ResourceRecordSets>ResourceRecordSet"`
	IsTruncated          bool        `xml:"IsTruncated"`
	MaxItems             string      `xml:"MaxItems"`
	NextRecordName       string      `xml:"NextRecordName,omitempty"`
	NextRecordType       string      `xml:"NextRecordType,omitempty"`
	NextRecordIdentifier string      `xml:"NextRecordIdentifier,omitempty"`
}

type errorResponse struct {
	XMLName xml.Name `xml:"ErrorResponse"`
	Xmlns   string   `xml:"xmlns,attr"`
	Error   struct {
		Type    string `xml:"Type"`
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
	} `xml:"Error"`
	RequestID string `xml:"RequestId"`
}

type invalidChangeBatch struct {
	XMLName   xml.Name `xml:"InvalidChangeBatch"`
	Xmlns     string   `xml:"xmlns,attr"`
	Messages  []string `xml:"Messages>Message"`
	RequestID string   `xml:"RequestId"`
}

type healthCheckStatusResponse struct {
	XMLName      xml.Name                 `xml:"GetHealthCheckStatusResponse"`
	Xmlns        string                   `xml:"xmlns,attr"`
	Observations []healthCheckObservation `xml:"HealthCheckObservations>HealthCheckObservation"`
}

type healthCheckObservation struct {
	IPAddress   string `xml:"IPAddress"`
	Region      string `xml:"Region"`
	CheckedTime string `xml:"StatusReport>CheckedTime"`
	Status      string `xml:"StatusReport>Status"`
}
