package footfall.udf;

import java.time.LocalDate;

/**
 * staff_device(mall_id, device_id, day): whether the device is staff (or fixed equipment)
 * of the mall on that local day: detected by the job (table staff_detected: from its
 * since_day on) unless an operator says otherwise (table staff_overrides). Answered from
 * the JVM's shared layout (see Layout), one hash lookup per report; false for a report
 * with no mall (a rejected one).
 */
public class StaffDevice extends LayoutScalarFunction {
    public boolean eval(String mallId, String deviceId, LocalDate day) {
        return day != null && layout.isStaff(mallId, deviceId, day.toEpochDay());
    }
}
