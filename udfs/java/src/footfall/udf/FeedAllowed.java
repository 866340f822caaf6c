package footfall.udf;

/**
 * feed_allowed(device_id, consent_required): whether the favourite-shop feed may name the
 * device: always when no consent is required (FOOTFALL_FEED_CONSENT=none), else only when
 * its owner consented (table privacy_consents, read with the layout: see Layout).
 */
public class FeedAllowed extends LayoutScalarFunction {
    public boolean eval(String deviceId, boolean consentRequired) {
        return !consentRequired || layout.hasConsent(deviceId);
    }
}
