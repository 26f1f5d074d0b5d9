/** The ONVIF media service, ver20 (tr2, Profile T), at /onvif/media2_service: H.265 is described here. */
import type { StreamName } from '../media/types.js';
import {
  govLength,
  type MediaDeps,
  STREAMS,
  setEncoder,
  sizesFor,
  streamOf,
  VIDEO_SOURCE,
  VIDEO_SOURCE_CONFIG,
} from './media-model.js';
import { type Operation, OperationService } from './operations.js';
import { asRecord, type SoapCall, SoapFault, text, xml } from './soap.js';

export const MEDIA2_PATH = '/onvif/media2_service';

export const MEDIA2_CAPABILITIES =
  '<tr2:Capabilities SnapshotUri="true" Rotation="false" VideoSourceMode="false" OSD="false" Mask="false" SourceMask="false">' +
  '<tr2:ProfileCapabilities MaximumNumberOfProfiles="2" ConfigurationsSupported="VideoSource VideoEncoder"/>' +
  '<tr2:StreamingCapabilities RTSPStreaming="true" RTPMulticast="false" RTP_RTSP_TCP="true" NonAggregateControl="false" AutoStartMulticast="false"/>' +
  '</tr2:Capabilities>';

export class Media2Service extends OperationService {
  protected readonly path = MEDIA2_PATH;
  protected readonly prefix = 'tr2';
  protected readonly what = 'a media2';
  readonly #deps: MediaDeps;

  constructor(deps: MediaDeps) {
    super();
    this.#deps = deps;
  }

  protected readonly operations: Readonly<Record<string, Operation>> = {
    GetServiceCapabilities: () => MEDIA2_CAPABILITIES,
    GetProfiles: (call) => {
      const token = text(call.body.Token);
      const streams = token ? [streamOf(token)] : STREAMS;
      return streams.map((s) => this.#profile(s)).join('');
    },
    GetVideoSourceConfigurations: () => this.#source('tr2:Configurations'),
    GetVideoEncoderConfigurations: (call) => {
      const token = text(call.body.ConfigurationToken) || text(call.body.ProfileToken);
      const streams = token ? [streamOf(token)] : STREAMS;
      return streams.map((s) => this.#encoder('tr2:Configurations', s)).join('');
    },
    GetVideoEncoderConfigurationOptions: (call) => this.#options(call),
    SetVideoEncoderConfiguration: async (call) => {
      await setEncoder(this.#deps, asRecord(call.body.Configuration));
      return '';
    },
    GetStreamUri: (call) => {
      const uri = this.#deps.streamUri(streamOf(text(call.body.ProfileToken)), call.host);
      if (!uri) throw new SoapFault('Receiver', 'ter:Action', 'RTSP is off (disabled or privacy mode)');
      return `<tr2:Uri>${xml(uri)}</tr2:Uri>`;
    },
    GetSnapshotUri: (call) =>
      `<tr2:Uri>${xml(this.#deps.snapshotUri(streamOf(text(call.body.ProfileToken)), call.host))}</tr2:Uri>`,
  };

  #profile(stream: StreamName): string {
    return (
      `<tr2:Profiles token="${stream}" fixed="true"><tr2:Name>${stream}</tr2:Name><tr2:Configurations>` +
      this.#source('tr2:VideoSource') +
      this.#encoder('tr2:VideoEncoder', stream) +
      '</tr2:Configurations></tr2:Profiles>'
    );
  }

  #source(element: string): string {
    const { main } = this.#deps.settings().stream;
    return (
      `<${element} token="${VIDEO_SOURCE_CONFIG}"><tt:Name>${VIDEO_SOURCE_CONFIG}</tt:Name><tt:UseCount>2</tt:UseCount>` +
      `<tt:SourceToken>${VIDEO_SOURCE}</tt:SourceToken><tt:Bounds x="0" y="0" width="${main.width}" height="${main.height}"/></${element}>`
    );
  }

  #encoder(element: string, stream: StreamName): string {
    const p = this.#deps.settings().stream[stream];
    const codec = this.#deps.codec(stream);
    return (
      `<${element} token="${stream}" GovLength="${govLength(p.fps)}" Profile="Main">` +
      `<tt:Name>${stream}</tt:Name><tt:UseCount>1</tt:UseCount><tt:Encoding>${codec}</tt:Encoding>` +
      `<tt:Resolution><tt:Width>${p.width}</tt:Width><tt:Height>${p.height}</tt:Height></tt:Resolution>` +
      `<tt:RateControl ConstantBitRate="false"><tt:FrameRateLimit>${p.fps}</tt:FrameRateLimit>` +
      `<tt:BitrateLimit>${p.bitrateKbps}</tt:BitrateLimit></tt:RateControl><tt:Quality>5</tt:Quality></${element}>`
    );
  }

  #options(call: SoapCall): string {
    const token = text(call.body.ConfigurationToken) || text(call.body.ProfileToken);
    const stream = token ? streamOf(token) : 'main';
    const codec = this.#deps.codec(stream);
    const sizes = sizesFor(this.#deps.settings())
      .map(
        ([w, h]) =>
          `<tt:ResolutionsAvailable><tt:Width>${w}</tt:Width><tt:Height>${h}</tt:Height></tt:ResolutionsAvailable>`,
      )
      .join('');
    return (
      `<tr2:Options GovLengthRange="1 120" FrameRatesSupported="60 30 25 20 15 10 5 1" ProfilesSupported="Main" ConstantBitRateSupported="false">` +
      `<tt:Encoding>${codec}</tt:Encoding><tt:QualityRange><tt:Min>0</tt:Min><tt:Max>10</tt:Max></tt:QualityRange>${sizes}` +
      '<tt:BitrateRange><tt:Min>64</tt:Min><tt:Max>20000</tt:Max></tt:BitrateRange></tr2:Options>'
    );
  }
}
