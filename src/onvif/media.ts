/** The ONVIF media service, ver10 (trt, Profile S), at /onvif/media_service. */
import type { StreamName } from '../media/types.js';
import {
  govLength,
  type MediaDeps,
  STREAMS,
  setEncoder,
  sizesFor,
  streamOf,
  tokenIn,
  VIDEO_SOURCE,
  VIDEO_SOURCE_CONFIG,
} from './media-model.js';
import { type Operation, OperationService } from './operations.js';
import { asRecord, type SoapCall, SoapFault, text, xml } from './soap.js';

export const MEDIA_PATH = '/onvif/media_service';

export const MEDIA_CAPABILITIES =
  '<trt:Capabilities SnapshotUri="true" Rotation="false" VideoSourceMode="false" OSD="false" EXICompression="false">' +
  '<trt:ProfileCapabilities MaximumNumberOfProfiles="2"/>' +
  '<trt:StreamingCapabilities RTPMulticast="false" RTP_TCP="true" RTP_RTSP_TCP="true" NonAggregateControl="false" NoRTSPStreaming="false"/>' +
  '</trt:Capabilities>';

export class MediaService extends OperationService {
  protected readonly path = MEDIA_PATH;
  protected readonly prefix = 'trt';
  protected readonly what = 'a media service';
  readonly #deps: MediaDeps;

  constructor(deps: MediaDeps) {
    super();
    this.#deps = deps;
  }

  protected readonly operations: Readonly<Record<string, Operation>> = {
    GetServiceCapabilities: () => MEDIA_CAPABILITIES,
    GetProfiles: () => STREAMS.map((s) => this.#profile('trt:Profiles', s)).join(''),
    GetProfile: (call) => this.#profile('trt:Profile', tokenIn(call.body, 'ProfileToken')),
    GetVideoSources: () => {
      const { main } = this.#deps.settings().stream;
      return (
        `<trt:VideoSources token="${VIDEO_SOURCE}"><tt:Framerate>${main.fps}</tt:Framerate>` +
        `<tt:Resolution><tt:Width>${main.width}</tt:Width><tt:Height>${main.height}</tt:Height></tt:Resolution></trt:VideoSources>`
      );
    },
    GetVideoSourceConfigurations: () => this.#sourceConfiguration('trt:Configurations'),
    GetVideoSourceConfiguration: (call) => {
      if (text(call.body.ConfigurationToken) !== VIDEO_SOURCE_CONFIG)
        throw new SoapFault('Sender', 'ter:NoConfig', 'no such configuration');
      return this.#sourceConfiguration('trt:Configuration');
    },
    GetCompatibleVideoSourceConfigurations: () => this.#sourceConfiguration('trt:Configurations'),
    GetVideoEncoderConfigurations: () => this.#encoders(),
    GetCompatibleVideoEncoderConfigurations: () => this.#encoders(),
    GetVideoEncoderConfiguration: (call) =>
      this.#encoder('trt:Configuration', streamOf(text(call.body.ConfigurationToken))),
    GetVideoEncoderConfigurationOptions: (call) => this.#options(call),
    SetVideoEncoderConfiguration: async (call) => {
      await setEncoder(this.#deps, asRecord(call.body.Configuration));
      return '';
    },
    GetStreamUri: (call) => {
      const uri = this.#deps.streamUri(tokenIn(call.body, 'ProfileToken'), call.host);
      if (!uri) throw new SoapFault('Receiver', 'ter:Action', 'RTSP is off (disabled or privacy mode)');
      return mediaUri(uri);
    },
    GetSnapshotUri: (call) => mediaUri(this.#deps.snapshotUri(tokenIn(call.body, 'ProfileToken'), call.host)),
    GetAudioSources: () => '',
    GetAudioSourceConfigurations: () => '',
    GetAudioEncoderConfigurations: () => '',
    GetMetadataConfigurations: () => '',
    GetVideoAnalyticsConfigurations: () => '',
  };

  #encoders(): string {
    return STREAMS.map((s) => this.#encoder('trt:Configurations', s)).join('');
  }

  #profile(element: string, stream: StreamName): string {
    return (
      `<${element} token="${stream}" fixed="true"><tt:Name>${stream}</tt:Name>` +
      this.#sourceConfiguration('tt:VideoSourceConfiguration') +
      this.#encoder('tt:VideoEncoderConfiguration', stream) +
      `</${element}>`
    );
  }

  #sourceConfiguration(element: string): string {
    const { main } = this.#deps.settings().stream;
    return (
      `<${element} token="${VIDEO_SOURCE_CONFIG}"><tt:Name>${VIDEO_SOURCE_CONFIG}</tt:Name><tt:UseCount>2</tt:UseCount>` +
      `<tt:SourceToken>${VIDEO_SOURCE}</tt:SourceToken><tt:Bounds x="0" y="0" width="${main.width}" height="${main.height}"/></${element}>`
    );
  }

  #encoder(element: string, stream: StreamName): string {
    const p = this.#deps.settings().stream[stream];
    const codec = this.#deps.codec(stream);
    const codecBlock =
      codec === 'H264'
        ? `<tt:H264><tt:GovLength>${govLength(p.fps)}</tt:GovLength><tt:H264Profile>Main</tt:H264Profile></tt:H264>`
        : '';
    return (
      `<${element} token="${stream}"><tt:Name>${stream}</tt:Name><tt:UseCount>1</tt:UseCount>` +
      `<tt:Encoding>${codec}</tt:Encoding>` +
      `<tt:Resolution><tt:Width>${p.width}</tt:Width><tt:Height>${p.height}</tt:Height></tt:Resolution>` +
      '<tt:Quality>5</tt:Quality>' +
      `<tt:RateControl><tt:FrameRateLimit>${p.fps}</tt:FrameRateLimit><tt:EncodingInterval>1</tt:EncodingInterval>` +
      `<tt:BitrateLimit>${p.bitrateKbps}</tt:BitrateLimit></tt:RateControl>${codecBlock}` +
      '<tt:Multicast><tt:Address><tt:Type>IPv4</tt:Type><tt:IPv4Address>0.0.0.0</tt:IPv4Address></tt:Address>' +
      '<tt:Port>0</tt:Port><tt:TTL>0</tt:TTL><tt:AutoStart>false</tt:AutoStart></tt:Multicast>' +
      `<tt:SessionTimeout>PT60S</tt:SessionTimeout></${element}>`
    );
  }

  #options(call: SoapCall): string {
    const token = text(call.body.ConfigurationToken) ?? text(call.body.ProfileToken);
    const stream = token ? streamOf(token) : 'main';
    const sizes = sizesFor(this.#deps.settings())
      .map(
        ([w, h]) =>
          `<tt:ResolutionsAvailable><tt:Width>${w}</tt:Width><tt:Height>${h}</tt:Height></tt:ResolutionsAvailable>`,
      )
      .join('');
    const ranges =
      '<tt:GovLengthRange><tt:Min>1</tt:Min><tt:Max>120</tt:Max></tt:GovLengthRange>' +
      '<tt:FrameRateRange><tt:Min>1</tt:Min><tt:Max>60</tt:Max></tt:FrameRateRange>' +
      '<tt:EncodingIntervalRange><tt:Min>1</tt:Min><tt:Max>1</tt:Max></tt:EncodingIntervalRange>';
    const bitrate = '<tt:BitrateRange><tt:Min>64</tt:Min><tt:Max>20000</tt:Max></tt:BitrateRange>';
    // ver10 knows JPEG, MPEG4 and H264 only: an H.265 stream is described through Media2.
    const h264 = this.#deps.codec(stream) === 'H264';
    return (
      '<trt:Options><tt:QualityRange><tt:Min>0</tt:Min><tt:Max>10</tt:Max></tt:QualityRange>' +
      (h264
        ? `<tt:H264>${sizes}${ranges}<tt:H264ProfilesSupported>Main</tt:H264ProfilesSupported></tt:H264>`
        : '') +
      (h264
        ? `<tt:Extension><tt:H264>${sizes}${ranges}<tt:H264ProfilesSupported>Main</tt:H264ProfilesSupported>${bitrate}</tt:H264></tt:Extension>`
        : '') +
      '</trt:Options>'
    );
  }
}

function mediaUri(uri: string): string {
  return (
    `<trt:MediaUri><tt:Uri>${xml(uri)}</tt:Uri><tt:InvalidAfterConnect>false</tt:InvalidAfterConnect>` +
    '<tt:InvalidAfterReboot>false</tt:InvalidAfterReboot><tt:Timeout>PT0S</tt:Timeout></trt:MediaUri>'
  );
}
