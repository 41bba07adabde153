/**
 * QR codes for authenticator enrolment, as inline SVG (the sign-in pages run no scripts
 * and load nothing). Built with the qrcode library (ISO/IEC 18004) from a URI this
 * server generated; the markup is shape elements only (no script, no style attribute).
 */
import QRCode from 'qrcode';
import { SafeHtml } from './html.js';

export async function qrCodeSvg(text: string): Promise<SafeHtml> {
  // Error correction M: an otpauth URI of ~150 characters stays a small, easily scanned code.
  const svg = await QRCode.toString(text, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
  return new SafeHtml(svg);
}
