// Package rtc is the WebRTC side every room adapter shares: a pion API that negotiates what a
// recorder needs (Opus only, NACK, receiver reports) on the interfaces it is allowed to use, and
// the bridge from a pion remote track to a capture.Source.
package rtc

import (
	"fmt"
	"net"
	"slices"
	"strings"

	"github.com/pion/ice/v2"
	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/nack"
	"github.com/pion/interceptor/pkg/report"
	"github.com/pion/webrtc/v3"

	"github.com/spacecast/spacecast/pkg/capture"
)

// OpusPayloadType is the payload type spacecast offers for Opus (the one browsers use).
const OpusPayloadType = 111

// Options limits where ICE gathers candidates.
type Options struct {
	// Loopback gathers on loopback only: the embedded demo and tests on 127.0.0.0/8. Nothing leaves
	// the machine, and the machine's own interfaces are never used.
	Loopback bool
	// Interfaces, when not empty, limits gathering to these interface names (a test's veth).
	Interfaces []string
	// UDPPortMin and UDPPortMax, when set, bound the local UDP ports (firewalled deployments).
	UDPPortMin, UDPPortMax uint16
}

// NewAPI returns a pion API that negotiates Opus only (a sender offering RED or other codecs is
// answered with plain Opus, deliberately: the file holds the packets as received), asks for
// retransmission of lost packets (NACK) and sends receiver reports. mDNS candidates are off: they
// would announce the host on every interface.
func NewAPI(o Options) (*webrtc.API, error) {
	m := &webrtc.MediaEngine{}
	err := m.RegisterCodec(webrtc.RTPCodecParameters{
		RTPCodecCapability: webrtc.RTPCodecCapability{
			MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2,
			SDPFmtpLine:  "minptime=10;useinbandfec=1;stereo=1;sprop-stereo=1",
			RTCPFeedback: []webrtc.RTCPFeedback{{Type: "nack"}},
		},
		PayloadType: OpusPayloadType,
	}, webrtc.RTPCodecTypeAudio)
	if err != nil {
		return nil, fmt.Errorf("rtc: %w", err)
	}
	reg := &interceptor.Registry{}
	gen, err := nack.NewGeneratorInterceptor()
	if err != nil {
		return nil, fmt.Errorf("rtc: %w", err)
	}
	reg.Add(gen)
	rr, err := report.NewReceiverInterceptor()
	if err != nil {
		return nil, fmt.Errorf("rtc: %w", err)
	}
	reg.Add(rr)
	sr, err := report.NewSenderInterceptor()
	if err != nil {
		return nil, fmt.Errorf("rtc: %w", err)
	}
	reg.Add(sr)

	var s webrtc.SettingEngine
	s.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	s.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4, webrtc.NetworkTypeTCP4})
	if o.Loopback {
		s.SetIncludeLoopbackCandidate(true)
		s.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
		if len(o.Interfaces) == 0 {
			s.SetInterfaceFilter(func(name string) bool { return name == "lo" || strings.HasPrefix(name, "lo0") })
		}
	}
	if len(o.Interfaces) > 0 {
		names := slices.Clone(o.Interfaces)
		s.SetInterfaceFilter(func(name string) bool { return slices.Contains(names, name) })
	}
	if o.UDPPortMin > 0 && o.UDPPortMax >= o.UDPPortMin {
		if err := s.SetEphemeralUDPPortRange(o.UDPPortMin, o.UDPPortMax); err != nil {
			return nil, fmt.Errorf("rtc: %w", err)
		}
	}
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(reg), webrtc.WithSettingEngine(s)), nil
}

// Source bridges a subscribed pion track to the capture engine. identity is the speaker's,
// id the adapter's name for the track.
func Source(identity, id string, tr *webrtc.TrackRemote, rc *webrtc.RTPReceiver) capture.Source {
	channels := 1
	if c := tr.Codec(); c.Channels == 2 && strings.Contains(c.SDPFmtpLine, "stereo=1") {
		channels = 2
	}
	return capture.Source{
		Participant: identity,
		ID:          id,
		Channels:    channels,
		PayloadType: uint8(tr.PayloadType()),
		ReadRTP: func(b []byte) (int, error) {
			n, _, err := tr.Read(b)
			return n, err
		},
		ReadRTCP: func(b []byte) (int, error) {
			n, _, err := rc.Read(b)
			return n, err
		},
	}
}

// Heard returns src with hear called after each packet (RTP or RTCP) read from it: how an adapter
// knows when the room was last heard (room.Attempt's LastHeard). hear runs per packet: it must not
// allocate or block.
func Heard(src capture.Source, hear func()) capture.Source {
	readRTP, readRTCP := src.ReadRTP, src.ReadRTCP
	src.ReadRTP = func(b []byte) (int, error) {
		n, err := readRTP(b)
		if err == nil {
			hear()
		}
		return n, err
	}
	src.ReadRTCP = func(b []byte) (int, error) {
		n, err := readRTCP(b)
		if err == nil {
			hear()
		}
		return n, err
	}
	return src
}

// IsOpus reports whether a remote track carries Opus (anything else is not recorded).
func IsOpus(tr *webrtc.TrackRemote) bool {
	return strings.EqualFold(tr.Codec().MimeType, webrtc.MimeTypeOpus)
}
