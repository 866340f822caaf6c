package footfall.udf;

/**
 * opted_out(device_id): whether the device's owner asked not to be tracked (table
 * privacy_opt_outs, read with the layout: see Layout). The ingestion turns such a report
 * away before anything counts it, one hash lookup per report; false without a device.
 */
public class OptedOut extends LayoutScalarFunction {
    public boolean eval(String deviceId) {
        return layout.isOptedOut(deviceId);
    }
}
